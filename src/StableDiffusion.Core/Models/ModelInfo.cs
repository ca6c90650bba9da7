using StableDiffusion.Core.Pipelines;

namespace StableDiffusion.Core.Models;

/// <summary>What a loaded model is and offers.</summary>
public sealed record ModelInfo(
    string Name,
    string Directory,
    string PipelineClass,
    IReadOnlyList<GenerationTask> Tasks,
    int NativeWidth,
    int NativeHeight,
    string DefaultScheduler,
    string PredictionType,
    int LatentFactor,
    string ExecutionProvider);
