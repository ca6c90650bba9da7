using System.Text.Json;

namespace StableDiffusion.Synthetic.Tests;

/// <summary>Runs only with SD_BUILD_FULL=1: building sd21-base takes minutes, several GB of disk and memory.</summary>
public sealed class FullSizeFactAttribute : FactAttribute
{
    public FullSizeFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("SD_BUILD_FULL") != "1")
        {
            Skip = "Set SD_BUILD_FULL=1 to build the full-size sd21-base preset.";
        }
    }
}

public class FullSizeTests
{
    [FullSizeFact]
    public void Sd21_base_has_real_shapes_and_its_unet_weights_in_external_data()
    {
        string folder = SyntheticFolders.NewDirectory("sd21-base");
        SyntheticModels.Build("sd21-base", folder);

        // The UNet's 865M float32 parameters (3.46 GB) cannot live in one protobuf.
        var unetData = new FileInfo(Path.Combine(folder, "unet", "model.onnx_data"));
        Assert.True(unetData.Length > 3_400_000_000L, $"unet/model.onnx_data is {unetData.Length} bytes");
        Assert.True(new FileInfo(Path.Combine(folder, "unet", "model.onnx")).Length < 10_000_000L);

        Tokens tokens = Tokens.Read(folder);
        Assert.Equal(49406, tokens.Bos);
        Assert.Equal(49407, tokens.Eos);
        Assert.Equal(0, tokens.Pad);
        using (JsonDocument config = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "text_encoder", "config.json"))))
        {
            Assert.Equal(49408, config.RootElement.GetProperty("vocab_size").GetInt32());
        }

        using (var text = OnnxRunner.Open(Path.Combine(folder, "text_encoder", "model.onnx")))
        {
            ModelContracts.AssertDeclared([new("input_ids", typeof(int), "batch", 77)], text.InputMetadata);
            ModelContracts.AssertDeclared(
                [new("last_hidden_state", typeof(float), "batch", 77, 1024), new("pooler_output", typeof(float), "batch", 1024)],
                text.OutputMetadata);
            float[] ids = new float[77];
            ids[0] = 49406;
            ids[1] = 320;
            ids[2] = 49407;
            var outputs = OnnxRunner.Run(text, new Dictionary<string, (long[], float[])> { ["input_ids"] = ([1, 77], ids) });
            Assert.Equal([1L, 77, 1024], outputs["last_hidden_state"].Shape);
            Assert.All(outputs["pooler_output"].Values, v => Assert.True(float.IsFinite(v)));
        }

        using (var unet = OnnxRunner.Open(Path.Combine(folder, "unet", "model.onnx")))
        {
            ModelContracts.AssertDeclared(
                [
                    new("sample", typeof(float), "batch", 4, "height", "width"),
                    new("timestep", typeof(float), 1),
                    new("encoder_hidden_states", typeof(float), "batch", 77, 1024),
                ],
                unet.InputMetadata);
            var outputs = OnnxRunner.Run(unet, new Dictionary<string, (long[], float[])>
            {
                ["sample"] = ([1, 4, 16, 16], OnnxRunner.Pattern(4 * 16 * 16)),
                ["timestep"] = ([1], [981f]),
                ["encoder_hidden_states"] = ([1, 77, 1024], OnnxRunner.Pattern(77 * 1024)),
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
        Directory.Delete(folder, recursive: true);
    }
}
