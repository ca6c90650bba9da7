using System.Text.Json;

namespace StableDiffusion.Synthetic.Tests;

/// <summary>The folder layout and configuration files a loader reads (DESIGN §2).</summary>
public class FolderTests
{
    [Fact]
    public void Tiny_folder_has_the_optimum_layout()
    {
        string folder = SyntheticFolders.Get("tiny");
        string[] expected =
        [
            "model_index.json", "synthetic.json", "scheduler/scheduler_config.json",
            "tokenizer/vocab.json", "tokenizer/merges.txt", "tokenizer/special_tokens_map.json", "tokenizer/tokenizer_config.json",
            "text_encoder/model.onnx", "text_encoder/config.json", "unet/model.onnx", "unet/config.json",
            "vae_decoder/model.onnx", "vae_decoder/config.json", "vae_encoder/model.onnx", "vae_encoder/config.json",
        ];
        foreach (string file in expected)
        {
            Assert.True(File.Exists(Path.Combine(folder, file)), $"{file} is missing");
        }
    }

    [Fact]
    public void Tiny_folder_stays_under_2_MB()
    {
        long bytes = FolderSize(SyntheticFolders.Get("tiny"));
        Assert.InRange(bytes, 100_000, 2 * 1024 * 1024);
    }

    [Fact]
    public void Fp16_weights_halve_the_models()
    {
        long fp32 = File.ReadAllBytes(Path.Combine(SyntheticFolders.Get("tiny"), "unet", "model.onnx")).Length;
        long fp16 = File.ReadAllBytes(Path.Combine(SyntheticFolders.Get("tiny", fp16: true), "unet", "model.onnx")).Length;
        Assert.InRange(fp16, fp32 * 0.4, fp32 * 0.7);
    }

    [Fact]
    public void Model_index_names_the_pipeline_and_its_components()
    {
        JsonElement index = ReadJson("tiny", "model_index.json");
        Assert.Equal("StableDiffusionPipeline", index.GetProperty("_class_name").GetString());
        Assert.Equal(["diffusers", "PNDMScheduler"], Strings(index.GetProperty("scheduler")));
        Assert.Equal(["transformers", "CLIPTextModel"], Strings(index.GetProperty("text_encoder")));
        Assert.Equal(["transformers", "CLIPTokenizer"], Strings(index.GetProperty("tokenizer")));
        Assert.Equal(["diffusers", "UNet2DConditionModel"], Strings(index.GetProperty("unet")));
        Assert.Equal(["diffusers", "AutoencoderKL"], Strings(index.GetProperty("vae")));
        Assert.Equal(JsonValueKind.Null, index.GetProperty("safety_checker")[0].ValueKind);
    }

    [Fact]
    public void Tiny_scheduler_config_is_sd21_base_pndm()
    {
        // Values of stabilityai/stable-diffusion-2-1-base scheduler/scheduler_config.json.
        JsonElement config = ReadJson("tiny", "scheduler/scheduler_config.json");
        Assert.Equal("PNDMScheduler", config.GetProperty("_class_name").GetString());
        Assert.Equal(1000, config.GetProperty("num_train_timesteps").GetInt32());
        Assert.Equal(0.00085, config.GetProperty("beta_start").GetDouble());
        Assert.Equal(0.012, config.GetProperty("beta_end").GetDouble());
        Assert.Equal("scaled_linear", config.GetProperty("beta_schedule").GetString());
        Assert.Equal("epsilon", config.GetProperty("prediction_type").GetString());
        Assert.Equal(1, config.GetProperty("steps_offset").GetInt32());
        Assert.False(config.GetProperty("set_alpha_to_one").GetBoolean());
        Assert.True(config.GetProperty("skip_prk_steps").GetBoolean());
        Assert.False(config.GetProperty("clip_sample").GetBoolean());
        Assert.Equal("leading", config.GetProperty("timestep_spacing").GetString());
    }

    [Fact]
    public void Tiny_v_scheduler_config_is_euler_with_v_prediction()
    {
        JsonElement config = ReadJson("tiny-v", "scheduler/scheduler_config.json");
        Assert.Equal("EulerDiscreteScheduler", config.GetProperty("_class_name").GetString());
        Assert.Equal("v_prediction", config.GetProperty("prediction_type").GetString());
        Assert.Equal(0.00085, config.GetProperty("beta_start").GetDouble());
        Assert.Equal(1, config.GetProperty("steps_offset").GetInt32());
    }

    [Theory]
    [InlineData("tiny", 64, 32)]
    [InlineData("tiny-v", 96, 32)]
    [InlineData("tiny-sd1", 64, 48)]
    public void Unet_config_gives_native_size_in_latents_and_channels(string preset, int sampleSize, int crossAttentionDim)
    {
        JsonElement config = ReadJson(preset, "unet/config.json");
        Assert.Equal(sampleSize, config.GetProperty("sample_size").GetInt32());
        Assert.Equal(4, config.GetProperty("in_channels").GetInt32());
        Assert.Equal(4, config.GetProperty("out_channels").GetInt32());
        Assert.Equal(crossAttentionDim, config.GetProperty("cross_attention_dim").GetInt32());
    }

    [Theory]
    [InlineData("vae_decoder")]
    [InlineData("vae_encoder")]
    public void Vae_configs_give_factor_8_and_sd_scaling(string component)
    {
        JsonElement config = ReadJson("tiny", component + "/config.json");
        Assert.Equal(4, config.GetProperty("block_out_channels").GetArrayLength());
        Assert.Equal(0.18215, config.GetProperty("scaling_factor").GetDouble());
        Assert.Equal(4, config.GetProperty("latent_channels").GetInt32());
    }

    [Fact]
    public void Synthetic_marker_records_preset_seed_and_precision()
    {
        JsonElement marker = ReadJson("tiny", "synthetic.json", fp16: true);
        Assert.Equal("tiny", marker.GetProperty("preset").GetString());
        Assert.Equal(0, marker.GetProperty("seed").GetInt32());
        Assert.True(marker.GetProperty("fp16").GetBoolean());
    }

    [Fact]
    public void External_data_option_moves_weights_to_model_onnx_data_and_still_runs()
    {
        string folder = SyntheticFolders.NewDirectory("external");
        SyntheticModels.Build("tiny", folder, new SyntheticModelOptions(ExternalData: true));
        string unet = Path.Combine(folder, "unet");
        long data = new FileInfo(Path.Combine(unet, "model.onnx_data")).Length;
        long graph = new FileInfo(Path.Combine(unet, "model.onnx")).Length;
        long inline = new FileInfo(Path.Combine(SyntheticFolders.Get("tiny"), "unet", "model.onnx")).Length;
        Assert.True(data > inline / 2, "the weights did not move to model.onnx_data");
        Assert.True(graph < inline / 2, "model.onnx still holds the weights");

        // Loaded from disk, ONNX Runtime resolves the "location" entries relative to model.onnx.
        using var session = OnnxRunner.Open(Path.Combine(unet, "model.onnx"));
        var outputs = OnnxRunner.Run(session, new Dictionary<string, (long[], float[])>
        {
            ["sample"] = ([1, 4, 8, 8], OnnxRunner.Pattern(256)),
            ["timestep"] = ([1], [1f]),
            ["encoder_hidden_states"] = ([1, 77, 32], OnnxRunner.Pattern(77 * 32)),
        });
        Assert.Equal([1L, 4, 8, 8], outputs["out_sample"].Shape);
    }

    private static JsonElement ReadJson(string preset, string relativePath, bool fp16 = false)
    {
        string path = Path.Combine(SyntheticFolders.Get(preset, fp16), relativePath);
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.Clone();
    }

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString() ?? "<null>")];

    private static long FolderSize(string folder) =>
        Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
}
