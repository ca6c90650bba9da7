namespace StableDiffusion.Server.Jobs;

/// <summary>How a wait on a job ended.</summary>
internal enum JobWaitEnd
{
    /// <summary>The job reached a terminal status.</summary>
    Finished,
    /// <summary>The wait's time ran out first.</summary>
    TimedOut,
    /// <summary>The server is stopping and the job will not finish here: it stays queued (or was handed back) in the store.</summary>
    ShuttingDown,
}

/// <summary>
/// Waiting for a job on behalf of an HTTP client (<c>Prefer: wait</c>, the synchronous OpenAI and A1111 calls, SSE).
/// A stopping server answers every waiting client instead of leaving it to a connection reset: at once for a queued
/// job, and when the running job finishes or is handed back at the end of the grace period.
/// </summary>
internal static class JobWaits
{
    public static async Task<JobWaitEnd> WaitAsync(Job job, TimeSpan timeout, CancellationToken stopping, CancellationToken aborted)
    {
        using var timeoutOrAbort = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        var timer = Task.Delay(timeout, timeoutOrAbort.Token);
        var stoppedSource = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Disposed with this wait, so a long-lived server does not collect one registration per request.
        using var registration = stopping.Register(() => stoppedSource.TrySetResult());
        var stopped = stoppedSource.Task;
        var first = await Task.WhenAny(job.Completion, job.HandedBack, timer, stopped).ConfigureAwait(false);
        if (first == stopped && job.Status == JobStatus.Processing)
        {
            // A running job gets its grace: it either finishes or is handed back (the runner enforces the grace).
            first = await Task.WhenAny(job.Completion, job.HandedBack, timer).ConfigureAwait(false);
        }
        aborted.ThrowIfCancellationRequested();
        timeoutOrAbort.Cancel(); // stop the timer
        if (job.Completion.IsCompleted)
        {
            return JobWaitEnd.Finished;
        }
        return first == timer ? JobWaitEnd.TimedOut : JobWaitEnd.ShuttingDown;
    }
}
