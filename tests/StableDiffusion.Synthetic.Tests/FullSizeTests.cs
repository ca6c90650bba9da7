using System.Text.Json;

namespace StableDiffusion.Synthetic.Tests;

/// <summary>Runs only with SD_BUILD_FULL=1: building a full-size preset takes a minute, 5 GB of disk and several GB of memory.</summary>
public sealed class FullSizeTheoryAttribute : TheoryAttribute
{
    public FullSizeTheoryAttribute()
    {
        if (Environment.GetEnvironmentVariable("SD_BUILD_FULL") != "1")
        {
            Skip = "Set SD_BUILD_FULL=1 to build the full-size presets.";
        }
    }
}

public class FullSizeTests
{
    [FullSizeTheory]
    // Parameter counts of the real models: SD 2.1-base UNet 865.9M, OpenCLIP-H text encoder (23 layers) 340M;
    // SD 1.5 UNet 859.5M, CLIP ViT-L text encoder 123M.
    [InlineData("sd21-base", 1024, 865_000_000L, 340_000_000L)]
    [InlineData("sd15", 768, 859_000_000L, 123_000_000L)]
    public void Full_size_preset_has_real_parameter_counts_and_runs_with_external_data(string preset, int hidden, long unetParameters, long textParameters)
    {
        string folder = SyntheticFolders.NewDirectory(preset);
        try
        {
            SyntheticModels.Build(preset, folder);

            // float32 parameters in model.onnx_data (plus alignment padding below 4 KB per tensor).
            long unetBytes = new FileInfo(Path.Combine(folder, "unet", "model.onnx_data")).Length;
            long textBytes = new FileInfo(Path.Combine(folder, "text_encoder", "model.onnx_data")).Length;
            Assert.InRange(unetBytes / 4, unetParameters, unetParameters + 3_000_000);
            Assert.InRange(textBytes / 4, textParameters, textParameters + 2_000_000);
            Assert.True(new FileInfo(Path.Combine(folder, "unet", "model.onnx")).Length < 10_000_000L);

            Tokens tokens = Tokens.Read(folder);
            Assert.Equal(49406, tokens.Bos);
            Assert.Equal(49407, tokens.Eos);
            using (JsonDocument config = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "text_encoder", "config.json"))))
            {
                Assert.Equal(49408, config.RootElement.GetProperty("vocab_size").GetInt32());
            }

            using (var text = OnnxRunner.Open(Path.Combine(folder, "text_encoder", "model.onnx")))
            {
                float[] ids = new float[77];
                ids.AsSpan().Fill(tokens.Pad);
                ids[0] = 49406;
                ids[1] = 320;
                ids[2] = 49407;
                var outputs = OnnxRunner.Run(text, new Dictionary<string, (long[], float[])> { ["input_ids"] = ([1, 77], ids) });
                Assert.Equal([1L, 77, hidden], outputs["last_hidden_state"].Shape);
                Assert.All(outputs["pooler_output"].Values, v => Assert.True(float.IsFinite(v)));
            }

            using (var unet = OnnxRunner.Open(Path.Combine(folder, "unet", "model.onnx")))
            {
                Assert.Equal(hidden, unet.InputMetadata["encoder_hidden_states"].Dimensions[2]);
                long[] timestepShape = unet.InputMetadata["timestep"].Dimensions.Length == 0 ? [] : [1];
                var outputs = OnnxRunner.Run(unet, new Dictionary<string, (long[], float[])>
                {
                    ["sample"] = ([1, 4, 16, 16], OnnxRunner.Pattern(4 * 16 * 16)),
                    ["timestep"] = (timestepShape, [981f]),
                    ["encoder_hidden_states"] = ([1, 77, hidden], OnnxRunner.Pattern(77 * hidden)),
                });
                Assert.Equal([1L, 4, 16, 16], outputs["out_sample"].Shape);
                Assert.All(outputs["out_sample"].Values, v => Assert.True(float.IsFinite(v)));
            }

            using (var decoder = OnnxRunner.Open(Path.Combine(folder, "vae_decoder", "model.onnx")))
            {
                var outputs = OnnxRunner.Run(decoder, new Dictionary<string, (long[], float[])>
                {
                    ["latent_sample"] = ([1, 4, 8, 8], OnnxRunner.Pattern(256)),
                });
                Assert.Equal([1L, 3, 64, 64], outputs["sample"].Shape);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
