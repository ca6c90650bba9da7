namespace StableDiffusion.Server.Jobs;

/// <summary>
/// Told about every job the dispatcher creates, before any worker can see it, so it can subscribe to the job's events
/// without missing one (webhooks are one; folders above Jobs register theirs, so Jobs does not depend on them).
/// </summary>
internal interface IJobListener
{
    void OnCreated(Job job);
}
