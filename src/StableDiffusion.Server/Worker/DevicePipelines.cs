using System.Diagnostics;
using StableDiffusion.Core.Models;
using StableDiffusion.Core.Pipelines;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Models;

namespace StableDiffusion.Server.Worker;

/// <summary>The loaded pipelines (ONNX sessions) of one device, and why the others failed to load.</summary>
internal sealed class DevicePipelines(int device, ILogger logger) : IDisposable
{
    private readonly Dictionary<string, StableDiffusionPipeline> _pipelines = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> _loadErrors = new(StringComparer.OrdinalIgnoreCase);

    public int Device => device;

    public int Count => _pipelines.Count;

    /// <summary>"model: error; …" for the models that failed to load, or null.</summary>
    public string? LoadErrors => _loadErrors.Count == 0 ? null : string.Join("; ", _loadErrors.Select(e => $"{e.Key}: {e.Value}"));

    public StableDiffusionPipeline? Find(string model) => _pipelines.GetValueOrDefault(model);

    /// <summary>The pipeline of <paramref name="model"/>, or an exception that says why it is not loaded.</summary>
    public StableDiffusionPipeline Get(string model) => Find(model)
        ?? throw new InvalidOperationException($"model '{model}' is not loaded on device {device}: {_loadErrors.GetValueOrDefault(model)}");

    /// <summary>Loads every model of the catalog; a model that fails is recorded and the others still load.</summary>
    public void LoadAll(ModelCatalog catalog, ModelsOptions options)
    {
        foreach (var model in catalog.Models)
        {
            var started = Stopwatch.GetTimestamp();
            StableDiffusionPipeline pipeline;
            try
            {
                if (model.IsDemo)
                {
                    DemoModel.EnsureBuilt(model.Path, logger);
                }
                pipeline = StableDiffusionPipeline.Load(model.Path, new ModelLoadOptions
                {
                    ExecutionProvider = options.ExecutionProvider,
                    DeviceId = device,
                    IntraOpThreads = options.IntraOpThreads,
                    Name = model.Name,
                    SafetyChecker = model.SafetyChecker,
                    PromptCacheEntries = options.PromptCacheEntries,
                    IoBinding = options.IoBinding,
                    DeviceSteps = options.DeviceSteps,
                    Cuda = options.Cuda,
                }, logger);
                pipeline.WarmUp(options.WarmupShapes(), logger);
            }
            catch (Exception e)
            {
                _loadErrors[model.Name] = e.Message;
                logger.LogCritical(e, "Could not load model {Model} from {Path} on device {Device}", model.Name, model.Path, device);
                continue;
            }
            _pipelines[model.Name] = pipeline;
            catalog.MarkLoaded(model, pipeline.Info);
            logger.LogInformation("Loaded model {Model} from {Path} on device {Device} ({Provider}) in {Seconds:0.00} s: native {Width}x{Height}, tasks {Tasks}",
                model.Name, model.Path, device, pipeline.Info.ExecutionProvider, Stopwatch.GetElapsedTime(started).TotalSeconds,
                pipeline.Info.NativeWidth, pipeline.Info.NativeHeight, string.Join(",", pipeline.Info.Tasks));
            if (model.IsDemo)
            {
                logger.LogWarning("""
                    ****************************************************************************
                    *  SERVING THE DEMO MODEL {Model}: RANDOM WEIGHTS, ITS IMAGES ARE NOISE.
                    *  Configure Models:Items in appsettings.json to serve a real model.
                    ****************************************************************************
                    """, model.Name);
            }
        }
    }

    public void Dispose()
    {
        foreach (var pipeline in _pipelines.Values)
        {
            pipeline.Dispose();
        }
    }
}
