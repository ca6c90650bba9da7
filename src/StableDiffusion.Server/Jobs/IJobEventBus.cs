namespace StableDiffusion.Server.Jobs;

/// <summary>
/// Carries job events and cancel signals between processes (Redis pub/sub); in one process there is nothing to carry.
/// Delivery is at most once: whoever follows a job also re-reads its stored state now and then.
/// </summary>
internal interface IJobEventBus
{
    /// <summary>Sends an event of a job this process runs to the processes that follow it.</summary>
    void Publish(string jobId, JobEvent e);

    /// <summary>Events of a job that another process runs.</summary>
    IDisposable Subscribe(string jobId, Action<JobEvent> onEvent);

    /// <summary>Asks whichever process runs the job to stop it.</summary>
    void RequestCancel(string jobId);

    /// <summary>Cancel requests for any job (a worker checks whether it runs the job).</summary>
    IDisposable OnCancelRequested(Action<string> onCancel);
}
