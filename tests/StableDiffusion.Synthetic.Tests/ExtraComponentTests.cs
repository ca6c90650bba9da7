using System.Text.Json;

namespace StableDiffusion.Synthetic.Tests;

/// <summary>The components and configs of the inpaint, upscale, depth and safety-checker variants.</summary>
public class ExtraComponentTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Depth_estimator_returns_non_negative_depth_at_384(bool fp16)
    {
        string folder = SyntheticFolders.Get("tiny-depth", fp16);
        using var session = OnnxRunner.Open(Path.Combine(folder, "depth_estimator", "model.onnx"));
        var outputs = OnnxRunner.Run(session, new Dictionary<string, (long[], float[])>
        {
            ["pixel_values"] = ([2, 3, 384, 384], OnnxRunner.Pattern(2 * 3 * 384 * 384)),
        });
        RunOutput depth = outputs["predicted_depth"];
        Assert.Equal([2L, 384, 384], depth.Shape);
        Assert.All(depth.Values, v => Assert.True(float.IsFinite(v) && v >= 0));
        Assert.True(depth.Values.Max() > 0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Safety_checker_blacks_out_only_the_flagged_image(bool fp16)
    {
        string folder = SyntheticFolders.Get("tiny-sd1", fp16, safetyChecker: true);
        using var session = OnnxRunner.Open(Path.Combine(folder, "safety_checker", "model.onnx"));
        // Image 0: CLIP input of a white image (normalises to about 1.9: flagged); image 1: mid-grey (about 0: passes).
        float[] clip = new float[2 * 3 * 224 * 224];
        clip.AsSpan(0, 3 * 224 * 224).Fill(1.9f);
        float[] images = OnnxRunner.Pattern(2 * 32 * 24 * 3).Select(v => (v + 1) / 2).ToArray();

        var outputs = OnnxRunner.Run(session, new Dictionary<string, (long[], float[])>
        {
            ["clip_input"] = ([2, 3, 224, 224], clip),
            ["images"] = ([2, 32, 24, 3], images),
        });

        Assert.Equal([1f, 0f], outputs["has_nsfw_concepts"].Values);
        RunOutput outImages = outputs["out_images"];
        Assert.Equal([2L, 32, 24, 3], outImages.Shape);
        int perImage = 32 * 24 * 3;
        Assert.All(outImages.Values.Take(perImage), v => Assert.Equal(0f, v));
        float tolerance = fp16 ? 1e-3f : 0f;
        for (int i = perImage; i < 2 * perImage; i++)
        {
            Assert.True(Math.Abs(images[i] - outImages.Values[i]) <= tolerance, $"pixel {i} changed");
        }
    }

    [Theory]
    [InlineData("tiny-inpaint", "StableDiffusionInpaintPipeline", 9)]
    [InlineData("tiny-upscale", "StableDiffusionUpscalePipeline", 7)]
    [InlineData("tiny-depth", "StableDiffusionDepth2ImgPipeline", 5)]
    public void Variant_folders_name_their_pipeline_and_unet_channels(string preset, string pipeline, int inChannels)
    {
        Assert.Equal(pipeline, ReadJson(preset, "model_index.json").GetProperty("_class_name").GetString());
        Assert.Equal(inChannels, ReadJson(preset, "unet/config.json").GetProperty("in_channels").GetInt32());
    }

    [Fact]
    public void Upscaler_has_a_factor_4_vae_scaled_by_0_08333_and_a_ddpm_low_res_scheduler()
    {
        // stabilityai/stable-diffusion-x4-upscaler: vae scaling_factor 0.08333, block_out_channels [128, 256, 512].
        JsonElement vae = ReadJson("tiny-upscale", "vae_decoder/config.json");
        Assert.Equal(0.08333, vae.GetProperty("scaling_factor").GetDouble());
        Assert.Equal(3, vae.GetProperty("block_out_channels").GetArrayLength());

        JsonElement index = ReadJson("tiny-upscale", "model_index.json");
        Assert.Equal(350, index.GetProperty("max_noise_level").GetInt32());
        Assert.Equal("DDPMScheduler", index.GetProperty("low_res_scheduler")[1].GetString());

        JsonElement lowRes = ReadJson("tiny-upscale", "low_res_scheduler/scheduler_config.json");
        Assert.Equal("DDPMScheduler", lowRes.GetProperty("_class_name").GetString());
        Assert.Equal(0.0001, lowRes.GetProperty("beta_start").GetDouble());
        Assert.Equal(0.02, lowRes.GetProperty("beta_end").GetDouble());

        JsonElement scheduler = ReadJson("tiny-upscale", "scheduler/scheduler_config.json");
        Assert.Equal("DDIMScheduler", scheduler.GetProperty("_class_name").GetString());
        Assert.Equal("v_prediction", scheduler.GetProperty("prediction_type").GetString());
    }

    [Fact]
    public void Depth_folder_ships_a_dpt_feature_extractor_at_384()
    {
        JsonElement index = ReadJson("tiny-depth", "model_index.json");
        Assert.Equal("DPTForDepthEstimation", index.GetProperty("depth_estimator")[1].GetString());
        JsonElement preprocessor = ReadJson("tiny-depth", "feature_extractor/preprocessor_config.json");
        Assert.Equal(384, preprocessor.GetProperty("size").GetProperty("height").GetInt32());
        Assert.Equal(384, preprocessor.GetProperty("size").GetProperty("width").GetInt32());
    }

    [Fact]
    public void Safety_checker_option_declares_the_checker_in_model_index()
    {
        string folder = SyntheticFolders.Get("tiny", safetyChecker: true);
        using JsonDocument index = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "model_index.json")));
        Assert.True(index.RootElement.GetProperty("requires_safety_checker").GetBoolean());
        Assert.Equal("StableDiffusionSafetyChecker", index.RootElement.GetProperty("safety_checker")[1].GetString());
        Assert.Equal("CLIPImageProcessor", index.RootElement.GetProperty("feature_extractor")[1].GetString());
        Assert.True(File.Exists(Path.Combine(folder, "feature_extractor", "preprocessor_config.json")));
        Assert.False(File.Exists(Path.Combine(SyntheticFolders.Get("tiny"), "safety_checker", "model.onnx")));
    }

    private static JsonElement ReadJson(string preset, string relativePath)
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(Path.Combine(SyntheticFolders.Get(preset), relativePath)));
        return document.RootElement.Clone();
    }
}
