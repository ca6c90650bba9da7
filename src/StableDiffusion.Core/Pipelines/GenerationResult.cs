using StableDiffusion.Core.Imaging;

namespace StableDiffusion.Core.Pipelines;

/// <summary>Progress after each denoising step.</summary>
public readonly record struct StepProgress(int Step, int TotalSteps, TimeSpan Elapsed);

/// <summary>Callbacks a caller may pass to follow a generation (called on the generating thread).</summary>
public sealed class GenerationObserver
{
    public Action<StepProgress>? OnStep { get; init; }
    /// <summary>Human-readable log lines meant for the job's logs (e.g. prompt truncation).</summary>
    public Action<string>? OnLog { get; init; }
    /// <summary>Test hook: a copy of the UNet's <c>sample</c> input [batch, C, h, w] before each call (call index, values).</summary>
    internal Action<int, float[]>? OnUNetSample { get; init; }
    /// <summary>Test hook: after each scheduler step, copies of the guided model output and of the latents [N, 4, h, w]
    /// (call index, model output, latents) — the trajectory the diffusers reference replays.</summary>
    internal Action<int, float[], float[]>? OnStepTrace { get; init; }
}

/// <summary>One output image, encoded in <see cref="Format"/> (PNG unless the settings asked for another).</summary>
public sealed record GeneratedImage(int Index, long Seed, byte[] Bytes, int Width, int Height, bool Watermarked, bool NsfwDetected,
    OutputFormat Format = OutputFormat.Png);

/// <summary>The outcome of one generation.</summary>
/// <param name="StageSeconds">Wall time per stage: tokenize, text_encoder, denoise, vae_decode, safety_checker, watermark, png.</param>
/// <param name="OnnxRuntimeSeconds">Time spent inside ONNX Runtime's Run, for the overhead figure.</param>
public sealed record GenerationResult(
    IReadOnlyList<GeneratedImage> Images,
    IReadOnlyDictionary<string, double> StageSeconds,
    double OnnxRuntimeSeconds,
    int StepsRun,
    IReadOnlyList<string> Logs);
