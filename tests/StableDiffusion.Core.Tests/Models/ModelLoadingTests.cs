using StableDiffusion.Core.Models;
using StableDiffusion.Core.Pipelines;

namespace StableDiffusion.Core.Tests.Models;

public sealed class ModelLoadingTests
{
    [Theory]
    [InlineData("unet/model.onnx")]
    [InlineData("tokenizer/merges.txt")]
    [InlineData("scheduler/scheduler_config.json")]
    public void Missing_file_is_named_in_the_error(string file)
    {
        string dir = SyntheticModelCache.Copy("tiny");
        File.Delete(Path.Combine(dir, file));

        var error = Assert.Throws<ModelLoadException>(() => StableDiffusionPipeline.Load(dir, new ModelLoadOptions { ExecutionProvider = "cpu" }));

        Assert.Contains(file, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_model_in_a_component_folder_names_the_missing_input()
    {
        string dir = SyntheticModelCache.Copy("tiny");
        File.Copy(Path.Combine(dir, "vae_decoder", "model.onnx"), Path.Combine(dir, "unet", "model.onnx"), overwrite: true);

        var error = Assert.Throws<ModelLoadException>(() => StableDiffusionPipeline.Load(dir, new ModelLoadOptions { ExecutionProvider = "cpu" }));

        Assert.Contains("unet", error.Message, StringComparison.Ordinal);
        Assert.Contains("'sample'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Latent_factor_and_scaling_factor_come_from_the_vae_config()
    {
        string dir = SyntheticModelCache.Copy("tiny");
        File.WriteAllText(Path.Combine(dir, "vae_decoder", "config.json"), """{"block_out_channels": [64, 128, 256], "scaling_factor": 0.08333}""");

        var folder = ModelFolder.Read(dir);

        Assert.Equal(4, folder.LatentFactor);
        Assert.Equal(0.08333, folder.ScalingFactor);
    }

    [Fact]
    public void Model_folder_json_with_python_literals_loads()
    {
        // diffusers writes Python's json: bare -Infinity / NaN / Infinity are legal there (issue 12).
        string dir = SyntheticModelCache.Copy("tiny");
        string schedulerPath = Path.Combine(dir, "scheduler", "scheduler_config.json");
        string scheduler = File.ReadAllText(schedulerPath);
        File.WriteAllText(schedulerPath, scheduler.Replace("{", """{"lambda_min_clipped": -Infinity, "variance_type": NaN, "x": Infinity,""", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(dir, "vae_decoder", "config.json"), """{"block_out_channels": [64, 128, 256, 512], "scaling_factor": 0.18215, "force_upcast": NaN}""");
        string index = Path.Combine(dir, "model_index.json");
        File.WriteAllText(index, File.ReadAllText(index).Replace("{", """{"requires_safety_checker": NaN,""", StringComparison.Ordinal));

        var folder = ModelFolder.Read(dir);

        Assert.Equal(double.NegativeInfinity, folder.Scheduler.LambdaMinClipped);
        Assert.Equal(0.18215, folder.ScalingFactor);
    }

    [Fact]
    public void Vae_config_defaults_to_factor_8_and_scaling_0_18215()
    {
        string dir = SyntheticModelCache.Copy("tiny");
        File.Delete(Path.Combine(dir, "vae_decoder", "config.json"));

        var folder = ModelFolder.Read(dir);

        Assert.Equal(8, folder.LatentFactor);
        Assert.Equal(0.18215, folder.ScalingFactor);
    }

    [Fact]
    public void Models_with_external_data_load_and_generate_like_inline_ones()
    {
        // Exports over 2 GB keep their weights in model.onnx_data beside model.onnx; ONNX Runtime must find it.
        string dir = Path.Combine(Path.GetTempPath(), $"sd-external-{Guid.NewGuid():N}");
        StableDiffusion.Synthetic.SyntheticModels.Build("tiny", dir, new StableDiffusion.Synthetic.SyntheticModelOptions(ExternalData: true));
        var settings = new GenerationSettings { Prompt = "x", Width = 64, Height = 64, Steps = 2, Seed = 3, WatermarkPayload = null };

        using var external = StableDiffusionPipeline.Load(dir, new ModelLoadOptions { ExecutionProvider = "cpu" });
        using var inline = StableDiffusionPipeline.Load(SyntheticModelCache.Get("tiny"), new ModelLoadOptions { ExecutionProvider = "cpu" });

        Assert.True(File.Exists(Path.Combine(dir, "unet", "model.onnx_data")));
        Assert.Equal(inline.Generate(settings).Images[0].Bytes, external.Generate(settings with { ModelName = "tiny" }).Images[0].Bytes);
    }

    [Fact]
    public void Load_reports_the_cpu_provider_and_model_facts()
    {
        using var pipeline = StableDiffusionPipeline.Load(SyntheticModelCache.Get("tiny"), new ModelLoadOptions { ExecutionProvider = "auto" });

        Assert.Equal("cpu", pipeline.Info.ExecutionProvider);
        Assert.Equal("PNDM", pipeline.Info.DefaultScheduler);
        Assert.Equal("epsilon", pipeline.Info.PredictionType);
        Assert.Equal(8, pipeline.Info.LatentFactor);
        Assert.Contains(GenerationTask.TextToImage, pipeline.Info.Tasks);
    }

    [Fact]
    public void Cuda_provider_requested_explicitly_fails_loudly_without_cuda()
    {
        if (File.Exists("/dev/nvidia0"))
        {
            return; // A GPU machine: the CUDA path is exercised by the benchmark, not this test.
        }

        var error = Assert.Throws<InvalidOperationException>(() =>
            StableDiffusionPipeline.Load(SyntheticModelCache.Get("tiny"), new ModelLoadOptions { ExecutionProvider = "cuda" }));

        Assert.Contains("CUDA", error.Message, StringComparison.Ordinal);
    }
}
