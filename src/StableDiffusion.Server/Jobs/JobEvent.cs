namespace StableDiffusion.Server.Jobs;

/// <summary>What happened to a job; subscribers (SSE, webhooks) receive these in order.</summary>
public enum JobEventKind
{
    Started,
    Log,
    Output,
    Completed,
}

/// <summary>One job event; <see cref="Text"/> is the log line for <see cref="JobEventKind.Log"/>.</summary>
public readonly record struct JobEvent(JobEventKind Kind, string? Text = null);
