using StableDiffusion.Server.Models;

namespace StableDiffusion.Server.Jobs;

internal sealed partial class Job
{
    // Counts published events: a snapshot with a higher version is newer (writers drop older ones).
    private long _version;

    /// <summary>The stored state and its version, taken atomically.</summary>
    internal (JobRecord Record, long Version) Snapshot()
    {
        lock (_lock)
        {
            return (ToRecord(), _version);
        }
    }

    /// <summary>The job's state as a backend stores it.</summary>
    public JobRecord ToRecord()
    {
        lock (_lock)
        {
            return new JobRecord
            {
                Id = Id,
                Sequence = Sequence,
                Model = Model.Name,
                Request = Request,
                Input = Input,
                CreatedAt = CreatedAt,
                Deadline = Deadline,
                StartedAt = StartedAt,
                CompletedAt = CompletedAt,
                Status = Status,
                Error = Error,
                Log = _logs.ToArray(),
                Outputs = _outputs,
                OutputAsDataUri = OutputAsDataUri,
                Webhook = Webhook,
                WebhookEvents = WebhookEvents.ToArray(),
                BaseUrl = BaseUrl,
                Owner = Owner,
                Attempt = Attempt,
                CancelRequested = CancelRequested,
            };
        }
    }

    /// <summary>
    /// The live view of a stored prediction: as it was (a finished one), or back in the queue (an unfinished one that a
    /// worker will start, as attempt <see cref="JobRecord.Attempt"/> + 1).
    /// </summary>
    public static Job FromRecord(JobRecord record, ServedModel model)
    {
        var job = new Job(record.Id, record.Sequence, model, record.Request, record.Input, record.CreatedAt, record.Deadline - record.CreatedAt)
        {
            OutputAsDataUri = record.OutputAsDataUri,
            Webhook = record.Webhook,
            WebhookEvents = record.WebhookEvents.ToHashSet(),
            BaseUrl = record.BaseUrl,
            Owner = record.Owner,
        };
        job.Restore(record);
        return job;
    }

    /// <summary>True once a worker of this process has taken the job (its events then originate here).</summary>
    public bool RunsHere { get; private set; }

    /// <summary>True while an event from another process is being published (write-through and webhooks skip it:
    /// the process that runs the job stores its state and sends its webhooks).</summary>
    public bool ApplyingRemote { get; private set; }

    /// <summary>Marks the job as run by this process (a worker's claim).</summary>
    public void MarkRunsHere()
    {
        lock (_lock)
        {
            RunsHere = true;
        }
    }

    /// <summary>
    /// Applies an event of the process that runs the job to this view of it, and tells this process's subscribers
    /// (SSE, A1111 progress, waiting clients).
    /// </summary>
    public void ApplyRemote(JobEvent e)
    {
        var finished = false;
        lock (_lock)
        {
            if (RunsHere || Status.IsTerminal())
            {
                return;
            }
            switch (e)
            {
                case JobStarted started:
                    Status = JobStatus.Processing;
                    StartedAt = started.At;
                    Attempt = started.Attempt;
                    break;
                case JobOutput output:
                    _outputs = output.Files;
                    break;
                case JobRequeued:
                    Status = JobStatus.Starting;
                    StartedAt = null;
                    _logs.Add(e);
                    break;
                case JobCompleted completed:
                    Status = completed.Status;
                    Error = completed.Error;
                    CompletedAt = completed.At;
                    finished = true;
                    break;
                default:
                    _logs.Add(e);
                    break;
            }
            ApplyingRemote = true;
            try
            {
                Publish(e);
            }
            finally
            {
                ApplyingRemote = false;
            }
        }
        if (finished)
        {
            _completed.TrySetResult();
        }
    }

    /// <summary>
    /// Catches up with a newer stored copy of a job another process runs (the fallback when pub/sub lost an event):
    /// the differences are applied as the events they stand for, so subscribers hear of them.
    /// </summary>
    public void Refresh(JobRecord record)
    {
        var missed = new List<JobEvent>();
        lock (_lock)
        {
            if (RunsHere || Status.IsTerminal() || record.Attempt < Attempt)
            {
                return;
            }
            if (record.Status != JobStatus.Starting && Status == JobStatus.Starting && record.StartedAt is { } startedAt)
            {
                missed.Add(new JobStarted(startedAt, record.Attempt));
            }
            missed.AddRange(record.Log.Skip(_logs.Count));
            if (record.Outputs.Count > 0 && _outputs.Count == 0)
            {
                missed.Add(new JobOutput(record.Outputs));
            }
            if (record.Status.IsTerminal())
            {
                missed.Add(new JobCompleted(record.Status, record.Error, record.CompletedAt ?? DateTimeOffset.UtcNow));
            }
        }
        foreach (var e in missed)
        {
            ApplyRemote(e);
        }
    }

    private void Restore(JobRecord record)
    {
        lock (_lock)
        {
            _logs.Clear();
            _logs.AddRange(record.Log);
            _outputs = record.Outputs;
            StartedAt = record.StartedAt;
            CompletedAt = record.CompletedAt;
            Status = record.Status;
            Error = record.Error;
            Attempt = record.Attempt;
            CancelRequested = record.CancelRequested;
            if (Status.IsTerminal())
            {
                _completed.TrySetResult();
            }
        }
    }

    /// <summary>
    /// Puts an interrupted job (found <c>processing</c> after a crash, or handed back at shutdown) back in the queued
    /// state so a worker runs it again as the next attempt.
    /// </summary>
    /// <param name="handedBack">True at shutdown: this process lets go of the job (waiting clients are answered).</param>
    public void Requeue(string reason, bool handedBack = false)
    {
        lock (_lock)
        {
            if (Status.IsTerminal())
            {
                return;
            }
            Status = JobStatus.Starting;
            StartedAt = null;
            var e = new JobRequeued(Attempt, reason);
            _logs.Add(e);
            Publish(e);
        }
        if (handedBack)
        {
            _handedBack.TrySetResult();
        }
    }

    /// <summary>Completes when this process gives the job back to the queue (shutdown) instead of finishing it.</summary>
    public Task HandedBack => _handedBack.Task;
}
