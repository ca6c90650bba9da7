using System.Text;
using System.Text.Json;
using StableDiffusion.Server.Generation;
using StableDiffusion.Server.Models;

namespace StableDiffusion.Server.Jobs;

/// <summary>
/// One prediction: the validated request, its state machine and its logs. State changes happen under one lock and
/// are published to subscribers (SSE streams, webhooks) in order.
/// </summary>
internal sealed partial class Job
{
    private readonly Lock _lock = new();
    private Action? _leftQueue;
    // Log lines and progress in order; progress becomes tqdm text only when someone reads the logs.
    private readonly List<JobEvent> _logs = [];
    private readonly List<Action<JobEvent>> _subscribers = [];
    private readonly CancellationTokenSource _cancellation = new();
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _handedBack = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IReadOnlyList<StoredFile> _outputs = [];

    public Job(long sequence, ServedModel model, GenerationRequest request, JsonElement input, DateTimeOffset createdAt, TimeSpan deadline)
        : this(Ids.New(), sequence, model, request, input, createdAt, deadline)
    {
    }

    private Job(string id, long sequence, ServedModel model, GenerationRequest request, JsonElement input, DateTimeOffset createdAt, TimeSpan deadline)
    {
        Id = id;
        Sequence = sequence;
        Model = model;
        Request = request;
        Input = input;
        CreatedAt = createdAt;
        Deadline = createdAt + deadline;
    }

    public string Id { get; }
    /// <summary>Creation order, for cursor pagination.</summary>
    public long Sequence { get; }
    public ServedModel Model { get; }
    public GenerationRequest Request { get; }
    /// <summary>The input as the client sent it, echoed back in the prediction.</summary>
    public JsonElement Input { get; }
    public DateTimeOffset CreatedAt { get; }
    /// <summary>A job still queued after this fails instead of running.</summary>
    public DateTimeOffset Deadline { get; }
    public DateTimeOffset? StartedAt { get; private set; }
    public DateTimeOffset? CompletedAt { get; private set; }
    public JobStatus Status { get; private set; } = JobStatus.Starting;
    public string? Error { get; private set; }
    /// <summary>Outputs as data URIs instead of file URLs.</summary>
    public bool OutputAsDataUri { get; init; }
    public Uri? Webhook { get; init; }
    /// <summary>Scheme, host and path base the client used (after forwarded headers), for absolute URLs.</summary>
    public string BaseUrl { get; init; } = "";
    /// <summary>Who may list this prediction (a hash of the creating API key); null without keys.</summary>
    public string? Owner { get; init; }
    public IReadOnlySet<string> WebhookEvents { get; init; } = new HashSet<string>();
    /// <summary>Which run of the job this is: 0 until a worker starts it, then 1, and +1 for each re-run of a job
    /// that a crash or shutdown interrupted (durable backends).</summary>
    public int Attempt { get; private set; }

    /// <summary>Canceled when the client cancels or shutdown runs out of grace; the pipeline checks it every step.</summary>
    public CancellationToken Cancellation => _cancellation.Token;

    /// <summary>True once a client asked to cancel (as opposed to shutdown stopping the job).</summary>
    public bool CancelRequested { get; private set; }

    /// <summary>Completes when the job reaches a terminal status.</summary>
    public Task Completion => _completed.Task;

    public IReadOnlyList<StoredFile> Outputs
    {
        get { lock (_lock) { return _outputs; } }
    }

    /// <summary>The logs as Replicate shows them: one line per log event, a tqdm line per progress event.</summary>
    public string Logs
    {
        get { lock (_lock) { return LogText(_logs); } }
    }

    /// <summary>The latest progress event, if any step has run.</summary>
    public JobProgress? LastProgress
    {
        get { lock (_lock) { return _logs.OfType<JobProgress>().LastOrDefault(); } }
    }

    /// <summary>
    /// Subscribes to future events and returns the log and progress events so far, atomically (nothing is missed or
    /// doubled).
    /// </summary>
    public (IReadOnlyList<JobEvent> LogSoFar, JobStatus Status, IDisposable Subscription) Subscribe(Action<JobEvent> onEvent)
    {
        lock (_lock)
        {
            _subscribers.Add(onEvent);
            return (_logs.ToArray(), Status, new Unsubscriber(this, onEvent));
        }
    }

    public void AppendLog(string line) => Record(new JobLog(line));

    public void ReportProgress(int step, int total, TimeSpan elapsed) => Record(new JobProgress(step, total, elapsed));

    /// <summary>Joins log and progress events into Replicate's <c>logs</c> text.</summary>
    public static string LogText(IEnumerable<JobEvent> events)
    {
        var text = new StringBuilder();
        foreach (var e in events)
        {
            if (LogLine(e) is { } line)
            {
                text.Append(line).Append('\n');
            }
        }
        return text.ToString();
    }

    /// <summary>The log line an event stands for (progress as tqdm's line), or null for state changes.</summary>
    public static string? LogLine(JobEvent e) => e switch
    {
        JobLog log => log.Line,
        JobProgress progress => progress.LogLine,
        JobRequeued requeued => requeued.Reason,
        _ => null,
    };

    private void Record(JobEvent e)
    {
        lock (_lock)
        {
            _logs.Add(e);
            Publish(e);
        }
    }

    /// <summary>Queued → processing; false when the job was canceled (or otherwise finished) while queued.</summary>
    public bool TryStart(DateTimeOffset now)
    {
        lock (_lock)
        {
            if (Status != JobStatus.Starting)
            {
                return false;
            }
            Status = JobStatus.Processing;
            StartedAt = now;
            Attempt++;
            ReleaseQueueSlot();
            Publish(new JobStarted(now, Attempt));
            return true;
        }
    }

    public bool TrySucceed(IReadOnlyList<StoredFile> outputs, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (Status.IsTerminal())
            {
                return false;
            }
            _outputs = outputs;
            Publish(new JobOutput(outputs));
            return Finish(JobStatus.Succeeded, null, now);
        }
    }

    public bool TryFail(string error, DateTimeOffset now)
    {
        lock (_lock)
        {
            return !Status.IsTerminal() && Finish(JobStatus.Failed, error, now);
        }
    }

    /// <summary>Marks a running job canceled once the pipeline has stopped.</summary>
    public bool TryMarkCanceled(DateTimeOffset now)
    {
        lock (_lock)
        {
            return !Status.IsTerminal() && Finish(JobStatus.Canceled, null, now);
        }
    }

    /// <summary>
    /// A client's cancel: a queued job is canceled at once; a running one is signalled and stops within one
    /// denoising step (the worker then marks it). Finished jobs are left as they are.
    /// </summary>
    public void Cancel(DateTimeOffset now)
    {
        lock (_lock)
        {
            if (Status.IsTerminal())
            {
                return;
            }
            CancelRequested = true;
            if (Status == JobStatus.Starting)
            {
                Finish(JobStatus.Canceled, null, now);
            }
        }
        _cancellation.Cancel();
    }

    /// <summary>Stops a running job after <paramref name="grace"/> (shutdown); it then fails rather than cancels.</summary>
    public void CancelAfter(TimeSpan grace) => _cancellation.CancelAfter(grace);

    /// <summary>Lets go of an output's bytes (byte cap eviction); its URL stays in the prediction and answers 404.</summary>
    public void EvictOutput(string fileId)
    {
        lock (_lock)
        {
            _outputs = _outputs.Select(f => f.Id == fileId ? f with { Evicted = true } : f).ToArray();
        }
    }

    /// <summary>Called once when the job stops waiting (started, or finished while queued): the queue gives its slot back.</summary>
    internal void OnLeftQueue(Action? release)
    {
        lock (_lock)
        {
            _leftQueue = release;
        }
    }

    private void ReleaseQueueSlot()
    {
        var release = _leftQueue;
        _leftQueue = null;
        release?.Invoke();
    }

    private bool Finish(JobStatus status, string? error, DateTimeOffset now)
    {
        if (Status == JobStatus.Starting)
        {
            ReleaseQueueSlot();
        }
        Status = status;
        Error = error;
        CompletedAt = now;
        Publish(new JobCompleted(status, error, now));
        _completed.TrySetResult();
        return true;
    }

    private void Publish(JobEvent e)
    {
        _version++;
        // A copy: a subscriber may unsubscribe (or subscribe another) from its own callback.
        foreach (var subscriber in _subscribers.ToArray())
        {
            subscriber(e);
        }
    }

    private sealed class Unsubscriber(Job job, Action<JobEvent> onEvent) : IDisposable
    {
        public void Dispose()
        {
            lock (job._lock)
            {
                job._subscribers.Remove(onEvent);
            }
        }
    }
}
