namespace StableDiffusion.Server.Jobs;

/// <summary>
/// Keeps this process's view of jobs that other processes run up to date, and carries cancels to them (a shared
/// backend's event bus, with a periodic re-read of the store as the fallback). One process alone has no mirror.
/// </summary>
internal interface IJobMirror
{
    /// <summary>Follows a job that another process may run: its events are applied here until it finishes.</summary>
    void Follow(Job job);

    /// <summary>Asks the process that runs the job to cancel it.</summary>
    void RequestCancel(Job job);
}
