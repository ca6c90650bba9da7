using System.Text.Json.Serialization;

namespace StableDiffusion.Server.Jobs;

/// <summary>
/// Something that happened to a job, in the order it happened (cog's <c>python/cog/server/eventtypes.py</c>).
/// Every consumer — SSE, webhooks, A1111 progress, logs, metrics — subscribes to these; numbers stay numbers until a
/// client reads them (the tqdm line is formatted only for the logs). Serializable, so a backend can carry them
/// between machines.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(JobStarted), "started")]
[JsonDerivedType(typeof(JobProgress), "progress")]
[JsonDerivedType(typeof(JobLog), "log")]
[JsonDerivedType(typeof(JobOutput), "output")]
[JsonDerivedType(typeof(JobCompleted), "completed")]
[JsonDerivedType(typeof(JobRequeued), "requeued")]
internal abstract record JobEvent;

/// <summary>A worker took the job (queued → processing).</summary>
internal sealed record JobStarted(DateTimeOffset At, int Attempt) : JobEvent;

/// <summary>Denoising step <paramref name="Step"/> of <paramref name="Total"/> (the steps the user asked for) is done.</summary>
internal sealed record JobProgress(int Step, int Total, TimeSpan Elapsed) : JobEvent
{
    /// <summary>tqdm's line for this step, as Replicate models print it into their logs.</summary>
    public string LogLine => ProgressBar.Format(Step, Total, Elapsed);
}

/// <summary>A line for the job's logs.</summary>
internal sealed record JobLog(string Line) : JobEvent;

/// <summary>The outputs exist (sent just before the job succeeds, as Replicate's <c>output</c> event).</summary>
internal sealed record JobOutput(IReadOnlyList<StoredFile> Files) : JobEvent;

/// <summary>A run was interrupted (shutdown past its grace, a crash, a lost worker) and the job is queued again.</summary>
internal sealed record JobRequeued(int Attempt, string Reason) : JobEvent;

/// <summary>The job reached a terminal status.</summary>
internal sealed record JobCompleted(JobStatus Status, string? Error, DateTimeOffset At) : JobEvent;
