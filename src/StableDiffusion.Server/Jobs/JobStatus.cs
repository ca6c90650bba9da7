namespace StableDiffusion.Server.Jobs;

/// <summary>A prediction's status, as Replicate names them.</summary>
internal enum JobStatus
{
    /// <summary>Queued, waiting for a worker.</summary>
    Starting,
    Processing,
    Succeeded,
    Failed,
    Canceled,
}

internal static class JobStatuses
{
    public static string WireName(this JobStatus status) => status switch
    {
        JobStatus.Starting => "starting",
        JobStatus.Processing => "processing",
        JobStatus.Succeeded => "succeeded",
        JobStatus.Failed => "failed",
        _ => "canceled",
    };

    public static bool IsTerminal(this JobStatus status) => status >= JobStatus.Succeeded;
}
