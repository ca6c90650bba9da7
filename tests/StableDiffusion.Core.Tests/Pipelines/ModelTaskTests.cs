using StableDiffusion.Core.Models;
using StableDiffusion.Core.Pipelines;

namespace StableDiffusion.Core.Tests.Pipelines;

public sealed class ModelTaskTests
{
    [Fact]
    public void Four_channel_model_with_an_encoder_offers_txt2img_img2img_and_legacy_inpainting()
    {
        using var pipeline = TestImages.Load("tiny");

        Assert.Equal([GenerationTask.TextToImage, GenerationTask.ImageToImage, GenerationTask.Inpaint], pipeline.Info.Tasks);
        Assert.Equal(4, pipeline.Info.UnetInChannels);
    }

    [Fact]
    public void Four_channel_model_without_an_encoder_offers_txt2img_only()
    {
        string dir = SyntheticModelCache.Copy("tiny");
        Directory.Delete(Path.Combine(dir, "vae_encoder"), recursive: true);

        using var pipeline = StableDiffusionPipeline.Load(dir, new ModelLoadOptions { ExecutionProvider = "cpu" });

        Assert.Equal([GenerationTask.TextToImage], pipeline.Info.Tasks);
        var ex = Assert.Throws<NotSupportedException>(() => pipeline.Generate(new GenerationSettings
        {
            Task = GenerationTask.ImageToImage,
            Image = TestImages.Gradient(64, 64),
        }));
        Assert.Contains("cannot do image-to-image", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(GenerationTask.Upscale, "cannot do upscaling")]
    [InlineData(GenerationTask.DepthToImage, "cannot do depth-to-image")]
    public void Asking_a_model_for_a_task_it_cannot_do_is_not_supported_with_a_clear_message(GenerationTask task, string expected)
    {
        using var pipeline = TestImages.Load("tiny");

        var ex = Assert.Throws<NotSupportedException>(() => pipeline.Generate(new GenerationSettings
        {
            Task = task,
            Image = TestImages.Gradient(64, 64),
            Steps = 2,
        }));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Contains("it supports text-to-image, image-to-image, inpainting", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Enabling_the_safety_checker_on_a_folder_without_one_fails_to_load_naming_the_file()
    {
        var ex = Assert.Throws<ModelLoadException>(() => TestImages.Load("tiny", new ModelLoadOptions { SafetyChecker = true }));

        Assert.Contains("safety_checker/model.onnx", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_unet_channel_count_fails_to_load()
    {
        var folder = ModelFolder.Read(SyntheticModelCache.Get("tiny"));

        var ex = Assert.Throws<ModelLoadException>(() => ModelTasks.For(folder, 6, hasClassLabels: false));

        Assert.Contains("6 input channels", ex.Message, StringComparison.Ordinal);
    }
}
