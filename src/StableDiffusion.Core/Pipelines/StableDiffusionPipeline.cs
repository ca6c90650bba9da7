using System.Diagnostics;
using System.Numerics.Tensors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using StableDiffusion.Core.Imaging;
using StableDiffusion.Core.Models;
using StableDiffusion.Core.Randomness;
using StableDiffusion.Core.Schedulers;
using StableDiffusion.Core.Text;

namespace StableDiffusion.Core.Pipelines;

/// <summary>A loaded model folder and the generation tasks it can run. Not thread-safe: one generation at a time.</summary>
/// <remarks>One file per task: this one loads, dispatches, runs text-to-image and the shared ending; the others are
/// StableDiffusionPipeline.ImageToImage.cs, .Inpaint.cs, .Upscale.cs and .Depth.cs.</remarks>
public sealed partial class StableDiffusionPipeline : IDisposable
{
    private readonly ModelFolder _folder;
    private readonly SessionOptions _sessionOptions;
    private readonly List<OnnxComponent> _components;
    private readonly PromptEncoder _prompts;
    private readonly UNetModel _unet;
    private readonly VaeDecoder _vaeDecoder;
    private readonly ModelLoadOptions _options;
    private SessionOptions? _unetSessionOptions;
    private VaeEncoder? _vaeEncoder;
    private SafetyChecker? _safetyChecker;
    private DepthEstimator? _depthEstimator;
    private LowResNoise? _lowResNoise;

    private StableDiffusionPipeline(ModelFolder folder, SessionOptions sessionOptions, List<OnnxComponent> components,
        PromptEncoder prompts, UNetModel unet, VaeDecoder vaeDecoder, ModelInfo info, ModelLoadOptions options)
    {
        _folder = folder;
        _sessionOptions = sessionOptions;
        _components = components;
        _prompts = prompts;
        _unet = unet;
        _vaeDecoder = vaeDecoder;
        _options = options;
        Info = info;
    }

    public ModelInfo Info { get; }

    public ModelFolder Folder => _folder;

    /// <summary>The loaded ONNX models (for metrics: time spent inside ONNX Runtime per component).</summary>
    /// <remarks>Set once, at the end of <see cref="Load"/>: the model's components, then the device-side step graphs
    /// (owned by the UNet's bindings).</remarks>
    public IReadOnlyList<OnnxComponent> Components { get; private set; } = [];

    /// <summary>The text-encoder outputs this model keeps by token ids (hits and misses for metrics).</summary>
    public PromptEmbeddingCache PromptCache => _prompts.Cache;

    internal PromptEncoder Prompts => _prompts;

    internal UNetModel UNet => _unet;

    public static StableDiffusionPipeline Load(string modelDirectory, ModelLoadOptions? options = null, ILogger? logger = null)
    {
        options ??= new ModelLoadOptions();
        logger ??= NullLogger.Instance;
        var folder = ModelFolder.Read(modelDirectory);
        var tokenizer = ClipTokenizer.FromDirectory(folder.TokenizerDirectory);
        var (sessionOptions, provider) = ExecutionProviderSelector.Create(options, logger);
        var components = new List<OnnxComponent>();
        var (bindIo, cudaGraph, deviceSteps) = IoMode(options, provider);
        // A CUDA graph is the UNet's alone: its session gets its own options.
        SessionOptions? unetOptions = cudaGraph ? ExecutionProviderSelector.Create(options, logger, cudaGraph: true).Options : null;
        UNetModel? unet = null;
        try
        {
            var textEncoder = Open(components, "text_encoder", folder.TextEncoderPath, sessionOptions, provider);
            var unetComponent = Open(components, "unet", folder.UnetPath, unetOptions ?? sessionOptions, provider);
            var decoderComponent = Open(components, "vae_decoder", folder.VaeDecoderPath, sessionOptions, provider);

            var prompts = new PromptEncoder(tokenizer, textEncoder, new PromptEmbeddingCache(options.PromptCacheEntries));
            unet = new UNetModel(unetComponent, folder.UnetInChannels);
            if (bindIo)
            {
                unet.BindIo(provider == "cpu" ? new HostMemory() : new CudaMemory(options.DeviceId), cudaGraph,
                    deviceSteps ? sessionOptions : null, provider);
            }
            if (prompts.HiddenSize > 0 && unet.Hidden.FixedDimension(2) is long unetWidth && unetWidth != prompts.HiddenSize)
            {
                throw new ModelLoadException(
                    $"unet: input '{UNetModel.HiddenInput}' expects width {unetWidth} but text_encoder produces {prompts.HiddenSize}.");
            }

            var decoder = new VaeDecoder(decoderComponent, folder.ScalingFactor, folder.LatentFactor);
            var tasks = ModelTasks.For(folder, unet.InChannels, unet.HasClassLabels);
            if (options.SafetyChecker && !folder.HasSafetyChecker)
            {
                throw new ModelLoadException($"Model folder '{folder.Directory}' is missing 'safety_checker/model.onnx' (the safety checker is enabled).");
            }

            int native = NativeSize(folder, unet);
            string name = options.Name ?? Path.GetFileName(folder.Directory.TrimEnd(Path.DirectorySeparatorChar));
            var info = new ModelInfo(
                name,
                folder.Directory,
                folder.PipelineClass,
                tasks,
                native,
                native,
                SchedulerFactory.DefaultFor(folder.Scheduler),
                folder.Scheduler.PredictionType,
                folder.LatentFactor,
                provider)
            {
                UnetInChannels = unet.InChannels,
                SafetyChecker = options.SafetyChecker,
                DepthEstimator = unet.InChannels == 5 && folder.HasDepthEstimator,
                IoBinding = bindIo,
                CudaGraph = cudaGraph,
                DeviceSteps = deviceSteps,
            };
            var pipeline = new StableDiffusionPipeline(folder, sessionOptions, components, prompts, unet, decoder, info, options)
            {
                _unetSessionOptions = unetOptions,
            };
            pipeline.LoadTaskComponents(tasks);
            pipeline.Components = unet.Bindings?.Steps is { } steps ? [.. components, steps.GuideOne, steps.GuideTwo, steps.Combine] : components;
            if (folder.IsSynthetic)
            {
                logger.LogWarning("Model {Model} at {Directory} is SYNTHETIC: random weights, its images are noise", name, folder.Directory);
            }

            logger.LogInformation("Loaded model {Model} ({PipelineClass}, {Provider}, native {Size}px, scheduler {Scheduler}, {Prediction}, tasks {Tasks}, safety checker {Safety})",
                name, folder.PipelineClass, provider, native, info.DefaultScheduler, info.PredictionType, string.Join(", ", tasks), options.SafetyChecker ? "on" : "off");
            return pipeline;
        }
        catch
        {
            unet?.Dispose();
            foreach (var component in components)
            {
                component.Dispose();
            }

            sessionOptions.Dispose();
            unetOptions?.Dispose();
            throw;
        }
    }

    /// <summary>Whether the UNet is captured as CUDA graphs (CUDA, opt-in) and its I/O bound (default: when graphs are on,
    /// which need it; measured on an H100, bound I/O without a graph is no faster than plain runs, see tests/gpu/results).</summary>
    private static (bool BindIo, bool CudaGraph, bool DeviceSteps) IoMode(ModelLoadOptions options, string provider)
    {
        bool graph = options.Cuda.CudaGraph && provider == "cuda";
        bool bind = options.IoBinding ?? graph;
        if (graph && !bind)
        {
            throw new ArgumentException("CudaGraph needs IoBinding (a graph replays against fixed device buffers); leave IoBinding on.");
        }

        bool steps = options.DeviceSteps ?? (bind && provider != "cpu");
        if (steps && !bind)
        {
            throw new ArgumentException("DeviceSteps needs IoBinding (the step graphs read and write the UNet's bound buffers); turn IoBinding on.");
        }

        return (bind, graph, steps);
    }

    /// <summary>Runs a short generation at each size so that the first request does not pay for ONNX Runtime's
    /// first-run work (cuDNN algorithm search, memory arena growth, CUDA graph capture).</summary>
    public void WarmUp(IEnumerable<(int Width, int Height, int Images)> shapes, ILogger? logger = null)
    {
        if (!Info.Tasks.Contains(GenerationTask.TextToImage))
        {
            return; // an x4 upscaler's shapes depend on its inputs
        }

        foreach (var (width, height, images) in shapes)
        {
            long start = Stopwatch.GetTimestamp();
            // Three UNet calls: a CUDA graph is captured after its warm-up calls and replayed from then on.
            Generate(new GenerationSettings { Prompt = "warm-up", Width = width, Height = height, NumOutputs = images, Steps = 3, WatermarkPayload = null });
            logger?.LogInformation("Warmed up {Model} at {Width}x{Height}, {Images} image(s) in {Seconds:0.00} s", Info.Name, width, height, images, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
    }

    /// <summary>Runs one generation to the end: <see cref="Render"/>, then <see cref="DecodedGeneration.Finish"/>.</summary>
    public GenerationResult Generate(GenerationSettings settings, GenerationObserver? observer = null, CancellationToken cancellationToken = default) =>
        Render(settings, observer, cancellationToken).Finish(cancellationToken);

    /// <summary>Runs the device part of one generation (text encoder, denoising, VAE decode, safety checker) and leaves
    /// the CPU-only ending (watermark, encode) to the caller, which may run it on another thread. A task the model does
    /// not offer (see <see cref="ModelInfo.Tasks"/>) throws <see cref="NotSupportedException"/>; a task without its input
    /// image throws <see cref="ArgumentException"/>.</summary>
    public DecodedGeneration Render(GenerationSettings settings, GenerationObserver? observer = null, CancellationToken cancellationToken = default)
    {
        if (!Info.Tasks.Contains(settings.Task))
        {
            throw new NotSupportedException(ModelTasks.Unsupported(Info, settings.Task));
        }

        return settings.Task switch
        {
            GenerationTask.TextToImage => settings.HiresFix is null
                ? TextToImage(settings, observer, cancellationToken)
                : HiresFixTextToImage(settings, observer, cancellationToken),
            GenerationTask.ImageToImage => ImageToImage(settings, observer, cancellationToken),
            GenerationTask.Inpaint => Inpaint(settings, observer, cancellationToken),
            GenerationTask.Upscale => Upscale(settings, observer, cancellationToken),
            GenerationTask.DepthToImage => DepthToImage(settings, observer, cancellationToken),
            _ => throw new NotSupportedException(ModelTasks.Unsupported(Info, settings.Task)),
        };
    }

    /// <summary>Opens the optional components the model's tasks (and the options) need.</summary>
    private void LoadTaskComponents(IReadOnlyList<GenerationTask> tasks)
    {
        bool needsEncoder = tasks.Contains(GenerationTask.ImageToImage) || tasks.Contains(GenerationTask.Inpaint) || tasks.Contains(GenerationTask.DepthToImage);
        if (needsEncoder)
        {
            _vaeEncoder = new VaeEncoder(Open(_components, "vae_encoder", _folder.VaeEncoderPath, _sessionOptions, Info.ExecutionProvider), _folder.ScalingFactor);
        }

        if (_options.SafetyChecker)
        {
            // A depth model's feature_extractor/ is DPT's (for its estimator); the checker then uses CLIP's defaults.
            var features = Info.UnetInChannels == 5 ? FeatureExtractor.Clip : FeatureExtractor.Load(_folder.FeatureExtractorConfigPath, FeatureExtractor.Clip);
            _safetyChecker = new SafetyChecker(Open(_components, "safety_checker", _folder.SafetyCheckerPath, _sessionOptions, Info.ExecutionProvider), features);
        }

        if (Info.DepthEstimator)
        {
            var features = FeatureExtractor.Load(_folder.FeatureExtractorConfigPath, FeatureExtractor.Dpt());
            _depthEstimator = new DepthEstimator(Open(_components, "depth_estimator", _folder.DepthEstimatorPath, _sessionOptions, Info.ExecutionProvider), features);
        }

        if (tasks.Contains(GenerationTask.Upscale))
        {
            if (_options.MaxUpscaleLatentPixels < 64 || _options.UpscaleTileOverlap < 0)
            {
                throw new ArgumentException(
                    $"MaxUpscaleLatentPixels must be at least 64 (an 8x8 tile) and UpscaleTileOverlap at least 0; got {_options.MaxUpscaleLatentPixels} and {_options.UpscaleTileOverlap}.");
            }

            _lowResNoise = new LowResNoise(_folder.LowResScheduler!);
        }
    }

    private DecodedGeneration TextToImage(GenerationSettings settings, GenerationObserver? observer, CancellationToken cancellationToken)
    {
        var run = new GenerationRun(this, settings, observer);
        using var activity = CoreTelemetry.ActivitySource.StartActivity("generate");
        activity?.SetTag("sd.model", Info.Name);
        activity?.SetTag("sd.steps", settings.Steps);

        var (latents, scheduler, _, stepsRun) = TextToImageLatents(run, settings, run.LatentHeight, run.LatentWidth, observer, cancellationToken);
        return run.Finish(latents, scheduler.Name, stepsRun, cancellationToken);
    }

    /// <summary>Text-to-image denoising at a latent size (the run's, or a hires fix's first pass), before decoding.</summary>
    private (float[] Latents, IScheduler Scheduler, float[] Hidden, int StepsRun) TextToImageLatents(GenerationRun run, GenerationSettings settings,
        int latentHeight, int latentWidth, GenerationObserver? observer, CancellationToken cancellationToken)
    {
        var scheduler = SchedulerFactory.Create(settings.Scheduler, _folder.Scheduler, settings.Eta, settings.SigmaSchedule);
        scheduler.SetTimesteps(settings.Steps);
        int images = settings.NumOutputs;
        bool guided = settings.GuidanceScale > 1.0;

        float[] hidden = run.Stage("text_encoder", () => EncodePrompts(settings, images, guided, run.Log));

        var latents = new float[images * 4 * latentHeight * latentWidth];
        var noise = run.CreateNoise();
        if (settings.Latents is { } given)
        {
            if (given.Length != latents.Length)
            {
                throw new ArgumentException($"latents must have {latents.Length} values ([{images}, 4, {latentHeight}, {latentWidth}]), found {given.Length}.");
            }

            given.CopyTo(latents, 0);
        }
        else
        {
            noise.Fill(latents);
        }

        // diffusers' prepare_latents: both drawn and caller-supplied latents are multiplied by init_noise_sigma.
        TensorPrimitives.Multiply(latents, (float)scheduler.InitNoiseSigma, latents);

        int stepsRun = run.Stage("denoise", () =>
        {
            using var unetRun = _unet.CreateRun((guided ? 2 : 1) * images, latentHeight, latentWidth, hidden, _prompts.HiddenSize);
            var loop = new DenoisingLoop(unetRun, scheduler, images, latentHeight, latentWidth, settings.GuidanceScale)
            {
                BeforeUNet = SampleHook(observer),
                StepTrace = observer?.OnStepTrace,
                StepsAsked = settings.Steps,
            };
            return loop.Run(latents, 0, noise.Fill, observer, cancellationToken);
        });

        return (latents, scheduler, hidden, stepsRun);
    }

    /// <summary>[uncond × N, cond × N] hidden states (cond × N only without guidance), each prompt encoded once.</summary>
    private float[] EncodePrompts(GenerationSettings settings, int images, bool guided, Action<string> log)
    {
        float[] cond = _prompts.Encode(settings.Prompt, "prompt", log);
        float[]? uncond = guided ? _prompts.Encode(settings.NegativePrompt, "negative prompt", log) : null;
        var hidden = new float[(guided ? 2 : 1) * images * cond.Length];
        int offset = 0;
        if (uncond is not null)
        {
            for (int n = 0; n < images; n++, offset += uncond.Length)
            {
                uncond.CopyTo(hidden, offset);
            }
        }

        for (int n = 0; n < images; n++, offset += cond.Length)
        {
            cond.CopyTo(hidden, offset);
        }

        return hidden;
    }

    /// <summary>Copies the UNet's sample input for tests that check the channel layout (null = no copy, no cost).</summary>
    private static Action<int, UNetRun>? SampleHook(GenerationObserver? observer)
    {
        if (observer?.OnUNetSample is not { } callback)
        {
            return null;
        }

        return (step, run) =>
        {
            var copy = new float[run.Sample.Length];
            run.Sample.Read(copy);
            callback(step, copy);
        };
    }

    private double OnnxSeconds()
    {
        double total = 0;
        foreach (var component in Components)
        {
            total += component.RunSeconds;
        }

        return total;
    }

    private static OnnxComponent Open(List<OnnxComponent> components, string name, string path, SessionOptions options, string provider)
    {
        var component = OnnxComponent.Open(name, path, options, provider);
        components.Add(component);
        return component;
    }

    /// <summary>Native output size: unet/config.json sample_size × latent factor, else a fixed sample shape, else
    /// 768 for v-prediction models (SD 2.x 768) and 512 otherwise.</summary>
    private static int NativeSize(ModelFolder folder, UNetModel unet)
    {
        if (folder.UnetSampleSize is int size && size > 0)
        {
            return size * folder.LatentFactor;
        }

        if (unet.Sample.FixedDimension(2) is long fixedHeight)
        {
            return (int)fixedHeight * folder.LatentFactor;
        }

        return folder.Scheduler.IsVPrediction ? 768 : 512;
    }

    public void Dispose()
    {
        _unet.Dispose();
        foreach (var component in _components)
        {
            component.Dispose();
        }

        _sessionOptions.Dispose();
        _unetSessionOptions?.Dispose();
    }
}
