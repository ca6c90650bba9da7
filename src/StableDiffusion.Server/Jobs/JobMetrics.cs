using StableDiffusion.Server.Telemetry;

namespace StableDiffusion.Server.Jobs;

/// <summary>Records a job's milestones on the server's instruments (Telemetry knows numbers, not jobs).</summary>
internal static class JobMetrics
{
    public static void JobStarted(this ServerMetrics metrics, Job job)
    {
        metrics.JobStarted(job.Model.Name, (job.StartedAt!.Value - job.CreatedAt).TotalSeconds);
        metrics.AttemptStarted(job.Attempt);
    }

    public static void JobFinished(this ServerMetrics metrics, Job job)
        => metrics.JobFinished(job.Model.Name, job.Status.WireName(),
            job.StartedAt is { } started && job.CompletedAt is { } completed ? (completed - started).TotalSeconds : null);
}
