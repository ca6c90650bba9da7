using StableDiffusion.Server.Models;

namespace StableDiffusion.Server.Jobs;

public sealed partial class Job
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

    /// <summary>Takes the state of a newer stored copy (a job another process runs); events are not replayed.</summary>
    public void Refresh(JobRecord record)
    {
        var finished = false;
        lock (_lock)
        {
            if (Status.IsTerminal() || record.Attempt < Attempt)
            {
                return;
            }
            Restore(record);
            finished = Status.IsTerminal();
        }
        if (finished)
        {
            _completed.TrySetResult();
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
    public void Requeue(string reason)
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
        _handedBack.TrySetResult();
    }

    /// <summary>Completes when this process gives the job back to the queue (shutdown) instead of finishing it.</summary>
    public Task HandedBack => _handedBack.Task;
}
