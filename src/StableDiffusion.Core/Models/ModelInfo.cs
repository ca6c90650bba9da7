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
    string ExecutionProvider)
{
    /// <summary>UNet input channels: 4 text-to-image, 9 inpainting, 5 depth, 7 x4 upscaler.</summary>
    public int UnetInChannels { get; init; } = 4;

    /// <summary>Whether flagged images are blacked out (safety checker loaded).</summary>
    public bool SafetyChecker { get; init; }

    /// <summary>Whether depth-to-image can estimate depth itself (<c>depth_estimator/</c> present); otherwise it needs a depth image.</summary>
    public bool DepthEstimator { get; init; }

    /// <summary>Whether the UNet's I/O is bound in device buffers (<see cref="ModelLoadOptions.IoBinding"/>).</summary>
    public bool IoBinding { get; init; }

    /// <summary>Whether guidance and the scheduler step run on the device (<see cref="ModelLoadOptions.DeviceSteps"/>).</summary>
    public bool DeviceSteps { get; init; }

    /// <summary>Whether the UNet is captured and replayed as CUDA graphs.</summary>
    public bool CudaGraph { get; init; }
}
