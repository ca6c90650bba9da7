using System.CommandLine;
using StableDiffusion.Core.Models;
using StableDiffusion.Core.Pipelines;
using StableDiffusion.Core.Randomness;
using StableDiffusion.Core.Schedulers;

namespace StableDiffusion.Cli;

/// <summary>The options every generating verb shares (generate, img2img, inpaint, upscale, depth, bench), and their
/// validation into one <see cref="GenerationSettings"/>.</summary>
public sealed class GenerationOptions
{
    public const int MaxSteps = 500;
    public const int MaxOutputs = 16;
    public const int MaxSide = 2048;

    public Option<string> Model { get; } = new("--model") { Description = "Model folder (optimum ONNX layout)", Required = true };
    public Option<string> Prompt { get; } = new("--prompt") { Description = "Prompt", DefaultValueFactory = _ => "" };
    public Option<string> NegativePrompt { get; } = new("--negative-prompt") { Description = "Negative prompt", DefaultValueFactory = _ => "" };
    public Option<int> Steps { get; } = new("--steps") { Description = "Denoising steps", DefaultValueFactory = _ => 25 };
    public Option<double> Guidance { get; } = new("--guidance") { Description = "Classifier-free guidance scale", DefaultValueFactory = _ => 7.5 };
    public Option<string?> Scheduler { get; } = new("--scheduler") { Description = "PNDM, DDIM, K_EULER, K_EULER_ANCESTRAL, DPMSolverMultistep, KarrasDPM, LMS (or a diffusers class name); default: the model's" };
    public Option<long?> Seed { get; } = new("--seed") { Description = "Seed of image 0 (image k uses seed+k unless --batch-noise one-generator); default: random" };
    public Option<string> Rng { get; } = new("--rng")
    {
        Description = "Noise source: cpu (torch.Generator('cpu'), diffusers), nv (A1111 NV/GPU), numpy (diffusers ONNX), xoshiro, cpu-scalar (torch without AVX2)",
        DefaultValueFactory = _ => RandomSource.Default,
    };
    public Option<string> BatchNoise { get; } = new("--batch-noise")
    {
        Description = "per-image: image k has its own generator seeded seed+k (A1111); one-generator: one generator draws for the whole batch (diffusers' generator=)",
        DefaultValueFactory = _ => "per-image",
    };
    public Option<string?> SigmaSchedule { get; } = new("--sigma-schedule") { Description = "karras or exponential sigmas (diffusers' use_karras_sigmas / use_exponential_sigmas) for the schedulers that offer them" };
    public Option<double> Eta { get; } = new("--eta") { Description = "DDIM eta in [0, 1] (0 = deterministic DDIM)", DefaultValueFactory = _ => 0.0 };
    public Option<int?> Width { get; } = new("--width") { Description = "Width in pixels (multiple of 8); default: the model's native size" };
    public Option<int?> Height { get; } = new("--height") { Description = "Height in pixels (multiple of 8); default: the model's native size" };
    public Option<int> NumOutputs { get; } = new("--num-outputs") { Description = "Images to generate", DefaultValueFactory = _ => 1 };
    public Option<bool> NoWatermark { get; } = new("--no-watermark") { Description = "Do not embed the invisible watermark" };
    public Option<string> Provider { get; } = new("--provider") { Description = "Execution provider: auto, cuda, tensorrt or cpu", DefaultValueFactory = _ => "auto" };
    public Option<string> IoBinding { get; } = new("--io-binding") { Description = "UNet I/O bound in device buffers: auto (on with --cuda-graph), on or off", DefaultValueFactory = _ => "auto" };
    public Option<string> DeviceSteps { get; } = new("--device-steps") { Description = "Guidance and scheduler steps on the device, latents kept there: auto (on with bound I/O on CUDA), on or off", DefaultValueFactory = _ => "auto" };
    public Option<bool> CudaGraph { get; } = new("--cuda-graph") { Description = "Capture the UNet as a CUDA graph per shape and replay it (CUDA only)" };
    public Option<string> ConvAlgoSearch { get; } = new("--cudnn-conv-algo-search") { Description = "EXHAUSTIVE, HEURISTIC or DEFAULT (CUDA)", DefaultValueFactory = _ => "EXHAUSTIVE" };
    public Option<bool> PreferNhwc { get; } = new("--prefer-nhwc") { Description = "Prefer NHWC convolution kernels (CUDA)" };
    public Option<bool> NoTf32 { get; } = new("--no-tf32") { Description = "Strict float32: no TF32 tensor-core maths (CUDA)" };
    public Option<string?> TensorRtCache { get; } = new("--trt-cache") { Description = "TensorRT engine cache folder (--provider tensorrt)" };
    public Option<int> Threads { get; } = new("--threads") { Description = "ONNX Runtime intra-op threads (0 = default)", DefaultValueFactory = _ => 0 };
    public Option<string> Progress { get; } = ConsoleProgress.CreateOption();

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Model, Prompt, NegativePrompt, Steps, Guidance, Scheduler, Seed, Rng, BatchNoise, Eta, SigmaSchedule, Width, Height, NumOutputs, NoWatermark, Provider, Threads, IoBinding, DeviceSteps, CudaGraph, ConvAlgoSearch, PreferNhwc, NoTf32, TensorRtCache, Progress })
        {
            command.Options.Add(option);
        }
    }

    public ModelLoadOptions LoadOptions(ParseResult parse)
    {
        string provider = parse.GetValue(Provider) ?? "auto";
        if (provider is not ("auto" or "cuda" or "tensorrt" or "cpu"))
        {
            throw new UsageException($"--provider must be auto, cuda, tensorrt or cpu, not '{provider}'");
        }

        bool? ioBinding = AutoOnOff(parse.GetValue(IoBinding), "--io-binding");
        bool? deviceSteps = AutoOnOff(parse.GetValue(DeviceSteps), "--device-steps");
        string search = parse.GetValue(ConvAlgoSearch) ?? "EXHAUSTIVE";
        if (!CudaOptions.ConvAlgoSearchValues.Contains(search))
        {
            throw new UsageException($"--cudnn-conv-algo-search must be EXHAUSTIVE, HEURISTIC or DEFAULT, not '{search}'");
        }

        int threads = parse.GetValue(Threads);
        if (threads < 0)
        {
            throw new UsageException("--threads must be 0 or more");
        }

        return new ModelLoadOptions
        {
            ExecutionProvider = provider,
            IntraOpThreads = threads,
            IoBinding = ioBinding,
            DeviceSteps = deviceSteps,
            Cuda = new CudaOptions
            {
                CudaGraph = parse.GetValue(CudaGraph),
                CudnnConvAlgoSearch = search,
                PreferNhwc = parse.GetValue(PreferNhwc),
                UseTf32 = !parse.GetValue(NoTf32),
                TensorRtEngineCacheDirectory = parse.GetValue(TensorRtCache),
            },
        };
    }

    public string ModelDirectory(ParseResult parse)
    {
        string dir = parse.GetRequiredValue(Model);
        if (!Directory.Exists(dir))
        {
            throw new UsageException($"--model: folder '{dir}' does not exist");
        }

        return dir;
    }

    /// <summary>Validates the shared options into settings, before any model is loaded (bad arguments fail fast).</summary>
    public GenerationSettings Settings(ParseResult parse)
    {
        int steps = parse.GetValue(Steps);
        if (steps is < 1 or > MaxSteps)
        {
            throw new UsageException($"--steps must be between 1 and {MaxSteps}, got {steps}");
        }

        double guidance = parse.GetValue(Guidance);
        if (!double.IsFinite(guidance) || guidance is < 0 or > 50)
        {
            throw new UsageException($"--guidance must be between 0 and 50, got {guidance}");
        }

        int outputs = parse.GetValue(NumOutputs);
        if (outputs is < 1 or > MaxOutputs)
        {
            throw new UsageException($"--num-outputs must be between 1 and {MaxOutputs}, got {outputs}");
        }

        string? scheduler = parse.GetValue(Scheduler);
        if (scheduler is not null && SchedulerFactory.Canonicalize(scheduler) is null)
        {
            throw new UsageException($"--scheduler '{scheduler}' is unknown; use one of {string.Join(", ", SchedulerFactory.Names)}");
        }

        int? width = Side(parse.GetValue(Width), "--width", 8);
        int? height = Side(parse.GetValue(Height), "--height", 8);
        long seed = parse.GetValue(Seed) ?? Random.Shared.NextInt64(0, uint.MaxValue);
        if (seed < 0)
        {
            throw new UsageException($"--seed must be 0 or more, got {seed}");
        }

        string rng = RandomSource.Canonicalize(parse.GetValue(Rng))
            ?? throw new UsageException($"--rng '{parse.GetValue(Rng)}' is unknown; use one of {string.Join(", ", RandomSource.Names)}");
        var batching = parse.GetValue(BatchNoise) switch
        {
            "per-image" => NoiseBatching.PerImage,
            "one-generator" => NoiseBatching.OneGenerator,
            var other => throw new UsageException($"--batch-noise must be per-image or one-generator, not '{other}'"),
        };
        if (rng == RandomSource.Numpy && seed + outputs - 1 > uint.MaxValue)
        {
            throw new UsageException($"--rng numpy takes seeds from 0 to {uint.MaxValue} (numpy's RandomState), and image k uses seed+k");
        }

        double eta = parse.GetValue(Eta);
        if (!double.IsFinite(eta) || eta is < 0 or > 1)
        {
            throw new UsageException($"--eta must be between 0 and 1, got {eta}");
        }

        string? sigmaSchedule = parse.GetValue(SigmaSchedule)?.Trim().ToLowerInvariant();
        if (sigmaSchedule is not (null or "karras" or "exponential"))
        {
            throw new UsageException($"--sigma-schedule must be karras or exponential, not '{sigmaSchedule}'");
        }

        var canonicalScheduler = scheduler is null ? null : SchedulerFactory.Canonicalize(scheduler);
        if (sigmaSchedule is not null && canonicalScheduler is not null && !SchedulerFactory.TakesSigmaSchedule(canonicalScheduler))
        {
            throw new UsageException($"--sigma-schedule: {canonicalScheduler} has no {sigmaSchedule} sigmas; they apply to {string.Join(", ", SchedulerFactory.SigmaScheduleNames)}");
        }

        return new GenerationSettings
        {
            Rng = rng,
            SigmaSchedule = sigmaSchedule,
            NoiseBatching = batching,
            Eta = eta,
            Prompt = parse.GetValue(Prompt) ?? "",
            NegativePrompt = parse.GetValue(NegativePrompt) ?? "",
            Steps = steps,
            GuidanceScale = guidance,
            Scheduler = scheduler is null ? null : SchedulerFactory.Canonicalize(scheduler),
            Seed = seed,
            NumOutputs = outputs,
            Width = width,
            Height = height,
            WatermarkPayload = parse.GetValue(NoWatermark) ? null : Core.Imaging.InvisibleWatermark.DefaultPayload,
        };
    }

    /// <summary>Checks the settings against the loaded model (its latent factor may be other than 8).</summary>
    public static GenerationSettings ForModel(GenerationSettings settings, StableDiffusionPipeline pipeline)
    {
        int factor = pipeline.Info.LatentFactor;
        Side(settings.Width, "--width", factor);
        Side(settings.Height, "--height", factor);
        return settings with { ModelName = pipeline.Info.Name };
    }

    private static int? Side(int? value, string name, int factor)
    {
        if (value is null)
        {
            return null;
        }

        if (value < factor || value > MaxSide || value % factor != 0)
        {
            throw new UsageException($"{name} must be a multiple of {factor} between {factor} and {MaxSide}, got {value}");
        }

        return value;
    }

    private static bool? AutoOnOff(string? value, string option) => value switch
    {
        "auto" => null,
        "on" => true,
        "off" => false,
        var other => throw new UsageException($"{option} must be auto, on or off, not '{other}'"),
    };
}
