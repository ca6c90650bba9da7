using System.Diagnostics;

namespace StableDiffusion.Core.Pipelines;

/// <summary>Times a stage of a generation: a span in Core's activity source, and its seconds added to a running total.</summary>
internal static class StageClock
{
    public static T Time<T>(Dictionary<string, double> stages, string name, Func<T> body)
    {
        using var activity = CoreTelemetry.ActivitySource.StartActivity(name);
        long start = Stopwatch.GetTimestamp();
        try
        {
            return body();
        }
        finally
        {
            stages[name] = stages.GetValueOrDefault(name) + Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
    }
}
