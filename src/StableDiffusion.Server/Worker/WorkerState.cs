namespace StableDiffusion.Server.Worker;

/// <summary>Where a worker is in its life; readiness needs every worker <see cref="Ready"/>.</summary>
internal enum WorkerState
{
    Loading,
    Ready,
    Failed,
    Stopped,
}
