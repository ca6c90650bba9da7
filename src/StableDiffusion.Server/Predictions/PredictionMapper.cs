using System.Globalization;
using StableDiffusion.Server.Jobs;

namespace StableDiffusion.Server.Predictions;

/// <summary>Maps a <see cref="Job"/> to Replicate's prediction JSON.</summary>
internal static class PredictionMapper
{
    public static PredictionResponse ToResponse(Job job)
    {
        var get = PublicUrls.Prediction(job.BaseUrl, job.Id);
        var status = job.Status;
        IReadOnlyList<string>? output = null;
        var files = job.Outputs;
        // Outputs appear with the "output" event, just before the status turns succeeded (as Replicate's do).
        if (files.Count > 0)
        {
            output = files.Select(f => job.OutputAsDataUri && !f.Evicted && f.DataUri is { } dataUri
                ? dataUri
                : PublicUrls.File(job.BaseUrl, f)).ToArray();
        }
        double? queueTime = job.StartedAt is { } s ? (s - job.CreatedAt).TotalSeconds
            : job.CompletedAt is { } c ? (c - job.CreatedAt).TotalSeconds : null;
        double? predictTime = job.StartedAt is { } s2 && job.CompletedAt is { } c2 ? (c2 - s2).TotalSeconds : null;
        return new PredictionResponse(
            job.Id,
            job.Model.FullName,
            job.Model.Name,
            job.Input,
            job.Logs,
            output,
            job.Error,
            status.WireName(),
            Timestamp(job.CreatedAt)!,
            Timestamp(job.StartedAt),
            Timestamp(job.CompletedAt),
            new PredictionUrls(get, get + "/cancel", get + "/stream"),
            new PredictionMetrics(predictTime, queueTime));
    }

    // Replicate writes RFC 3339 UTC with microseconds: 2023-09-08T16:19:34.765994Z.
    private static string? Timestamp(DateTimeOffset? t)
        => t?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
}
