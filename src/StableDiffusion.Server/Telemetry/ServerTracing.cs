using System.Diagnostics;

namespace StableDiffusion.Server.Telemetry;

/// <summary>The server's trace source: one span per job, one child span per pipeline stage.</summary>
public static class ServerTracing
{
    public const string SourceName = "StableDiffusion.Server";

    public static readonly ActivitySource Source = new(SourceName);

    // The pipeline's stage order (GenerationResult.StageSeconds); spans are laid end to end in this order.
    private static readonly string[] StageOrder = ["tokenize", "text_encoder", "denoise", "vae_decode", "safety_checker", "watermark", "png"];

    /// <summary>Adds stage spans under <paramref name="job"/> from the measured durations, starting at <paramref name="start"/>.</summary>
    public static void AddStageSpans(Activity? job, DateTimeOffset start, IReadOnlyDictionary<string, double> stageSeconds)
    {
        if (job is null)
        {
            return;
        }
        var at = start;
        foreach (var stage in StageOrder.Concat(stageSeconds.Keys.Except(StageOrder)))
        {
            if (!stageSeconds.TryGetValue(stage, out var seconds))
            {
                continue;
            }
            using var span = Source.StartActivity(stage, ActivityKind.Internal, job.Context, startTime: at);
            if (span is null)
            {
                continue;
            }
            at += TimeSpan.FromSeconds(seconds);
            span.SetEndTime(at.UtcDateTime);
        }
    }
}
