using System.Text.Json;
using StableDiffusion.Core.Schedulers;

namespace StableDiffusion.Core.Models;

/// <summary>
/// A Stable Diffusion model folder in the Hugging Face optimum ONNX layout (DESIGN §2): which files exist and what the
/// JSON configs say. Reading it validates the layout; the error names the missing file.
/// </summary>
public sealed record ModelFolder
{
    public const double DefaultScalingFactor = 0.18215;

    public required string Directory { get; init; }
    /// <summary><c>_class_name</c> of model_index.json (e.g. StableDiffusionPipeline, StableDiffusionInpaintPipeline).</summary>
    public required string PipelineClass { get; init; }
    public required SchedulerConfig Scheduler { get; init; }
    /// <summary>vae_decoder/config.json <c>scaling_factor</c> (default 0.18215).</summary>
    public required double ScalingFactor { get; init; }
    /// <summary>2^(len(block_out_channels)-1) from vae_decoder/config.json (default 8).</summary>
    public required int LatentFactor { get; init; }
    /// <summary>unet/config.json <c>sample_size</c> in latent pixels, when present.</summary>
    public int? UnetSampleSize { get; init; }
    /// <summary>Whether the folder was written by StableDiffusion.Synthetic (random weights).</summary>
    public bool IsSynthetic { get; init; }
    /// <summary>unet/config.json <c>in_channels</c> (4, 9 inpainting, 5 depth, 7 x4 upscaler), when present.</summary>
    public int? UnetInChannels { get; init; }
    /// <summary>model_index.json <c>max_noise_level</c> of the x4 upscaler (diffusers' default 350).</summary>
    public int MaxNoiseLevel { get; init; } = 350;
    /// <summary>low_res_scheduler/scheduler_config.json of the x4 upscaler (the DDPM schedule that noises the low-res image).</summary>
    public SchedulerConfig? LowResScheduler { get; init; }

    public string TokenizerDirectory => System.IO.Path.Combine(Directory, "tokenizer");
    public string TextEncoderPath => Component("text_encoder");
    public string UnetPath => Component("unet");
    public string VaeDecoderPath => Component("vae_decoder");
    public string VaeEncoderPath => Component("vae_encoder");
    public string SafetyCheckerPath => Component("safety_checker");
    public string DepthEstimatorPath => Component("depth_estimator");
    /// <summary>CLIP/DPT image-processor settings (resize, crop, mean, std) for the safety checker or depth estimator.</summary>
    public string FeatureExtractorConfigPath => System.IO.Path.Combine(Directory, "feature_extractor", "preprocessor_config.json");
    public const string LowResSchedulerFile = "low_res_scheduler/scheduler_config.json";

    public bool HasVaeEncoder => File.Exists(VaeEncoderPath);
    public bool HasSafetyChecker => File.Exists(SafetyCheckerPath);
    public bool HasDepthEstimator => File.Exists(DepthEstimatorPath);

    /// <summary>The files every text-to-image folder needs.</summary>
    public static IReadOnlyList<string> RequiredFiles { get; } =
    [
        "model_index.json",
        "scheduler/scheduler_config.json",
        "tokenizer/vocab.json",
        "tokenizer/merges.txt",
        "text_encoder/model.onnx",
        "unet/model.onnx",
        "vae_decoder/model.onnx",
    ];

    public static ModelFolder Read(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            throw new ModelLoadException($"Model folder '{directory}' does not exist.");
        }

        foreach (string file in RequiredFiles)
        {
            string path = System.IO.Path.Combine(directory, file);
            if (!File.Exists(path))
            {
                throw new ModelLoadException($"Model folder '{directory}' is missing '{file}'.");
            }
        }

        using var index = ReadJson(directory, "model_index.json");
        string pipelineClass = index.RootElement.TryGetProperty("_class_name", out var cls) && cls.ValueKind == JsonValueKind.String
            ? cls.GetString()!
            : "StableDiffusionPipeline";

        SchedulerConfig scheduler;
        try
        {
            scheduler = SchedulerConfig.Load(System.IO.Path.Combine(directory, "scheduler", "scheduler_config.json"));
        }
        catch (JsonException ex)
        {
            throw new ModelLoadException($"Model folder '{directory}': scheduler/scheduler_config.json is not valid JSON: {ex.Message}", ex);
        }

        double scaling = DefaultScalingFactor;
        int latentFactor = 8;
        string vaeConfig = System.IO.Path.Combine(directory, "vae_decoder", "config.json");
        if (File.Exists(vaeConfig))
        {
            using var vae = ReadJson(directory, "vae_decoder/config.json");
            if (vae.RootElement.TryGetProperty("scaling_factor", out var sf) && PythonJson.TryGetDouble(sf, out var scalingValue))
            {
                scaling = scalingValue;
            }

            if (vae.RootElement.TryGetProperty("block_out_channels", out var blocks) && blocks.ValueKind == JsonValueKind.Array && blocks.GetArrayLength() > 0)
            {
                latentFactor = 1 << (blocks.GetArrayLength() - 1);
            }
        }

        int? sampleSize = null;
        int? inChannels = null;
        string unetConfig = System.IO.Path.Combine(directory, "unet", "config.json");
        if (File.Exists(unetConfig))
        {
            using var unet = ReadJson(directory, "unet/config.json");
            if (unet.RootElement.TryGetProperty("sample_size", out var size) && size.ValueKind == JsonValueKind.Number)
            {
                sampleSize = size.GetInt32();
            }

            if (unet.RootElement.TryGetProperty("in_channels", out var channels) && channels.ValueKind == JsonValueKind.Number)
            {
                inChannels = channels.GetInt32();
            }
        }

        int maxNoiseLevel = index.RootElement.TryGetProperty("max_noise_level", out var mnl) && mnl.ValueKind == JsonValueKind.Number
            ? mnl.GetInt32()
            : 350;
        SchedulerConfig? lowRes = null;
        string lowResPath = System.IO.Path.Combine(directory, LowResSchedulerFile);
        if (File.Exists(lowResPath))
        {
            try
            {
                lowRes = SchedulerConfig.Load(lowResPath);
            }
            catch (JsonException ex)
            {
                throw new ModelLoadException($"Model folder '{directory}': {LowResSchedulerFile} is not valid JSON: {ex.Message}", ex);
            }
        }

        return new ModelFolder
        {
            Directory = System.IO.Path.GetFullPath(directory),
            PipelineClass = pipelineClass,
            Scheduler = scheduler,
            ScalingFactor = scaling,
            LatentFactor = latentFactor,
            UnetSampleSize = sampleSize,
            UnetInChannels = inChannels,
            MaxNoiseLevel = maxNoiseLevel,
            LowResScheduler = lowRes,
            IsSynthetic = File.Exists(System.IO.Path.Combine(directory, "synthetic.json")),
        };
    }

    private string Component(string name) => System.IO.Path.Combine(Directory, name, "model.onnx");

    private static JsonDocument ReadJson(string directory, string relative)
    {
        string path = System.IO.Path.Combine(directory, relative);
        try
        {
            return PythonJson.Parse(File.ReadAllText(path));
        }
        catch (JsonException ex)
        {
            throw new ModelLoadException($"Model folder '{directory}': {relative} is not valid JSON: {ex.Message}", ex);
        }
    }
}
