namespace StableDiffusion.Server.Jobs;

/// <summary>
/// Writes a job's state through to the prediction store as it changes. State changes (started, output, completed)
/// are written before anyone hears of them past this subscriber, so an answered status survives a crash; log and
/// progress lines are coalesced into one background write at a time, so a fast GPU step never waits on storage.
/// </summary>
internal sealed class JobPersistence
{
    private readonly Job _job;
    private readonly IPredictionStore _store;
    private readonly ILogger _logger;
    private readonly Action _onFinished;
    private readonly Lock _lock = new();
    private int _storedAttempt;
    private long _writtenVersion = -1;
    private bool _dirty;
    private Task _flushing = Task.CompletedTask;

    private JobPersistence(Job job, IPredictionStore store, ILogger logger, Action onFinished)
    {
        _job = job;
        _store = store;
        _logger = logger;
        _onFinished = onFinished;
        _storedAttempt = job.Attempt;
    }

    public static void Attach(Job job, IPredictionStore store, ILogger logger, Action onFinished)
    {
        var persistence = new JobPersistence(job, store, logger, onFinished);
        job.Subscribe(persistence.OnEvent);
    }

    private void OnEvent(JobEvent e)
    {
        if (_job.ApplyingRemote)
        {
            // The process that runs the job stores it; this view just stops being live when it ends.
            if (e is JobCompleted)
            {
                _onFinished();
            }
            return;
        }
        if (e is JobLog or JobProgress)
        {
            lock (_lock)
            {
                _dirty = true;
                if (_flushing.IsCompleted)
                {
                    _flushing = Task.Run(FlushAsync);
                }
            }
            return;
        }
        // Called under the job's lock: the record written is exactly the state this event announces. Lock order is
        // always job, then this writer's lock (the background flush takes its snapshot before taking ours).
        Write(_job.Snapshot());
        if (e is JobCompleted)
        {
            _onFinished();
        }
    }

    private async Task FlushAsync()
    {
        while (true)
        {
            lock (_lock)
            {
                if (!_dirty)
                {
                    return;
                }
                _dirty = false;
            }
            await Task.Yield();
            Write(_job.Snapshot());
        }
    }

    private void Write((JobRecord Record, long Version) snapshot)
    {
        lock (_lock)
        {
            var (record, version) = snapshot;
            if (version <= _writtenVersion)
            {
                return; // a newer state is already stored
            }
            _writtenVersion = version;
            try
            {
                // Both backends answer at once (SQLite runs synchronously; Redis is one round trip).
                // A refused write means another run owns the prediction now (this claim went stale, or it finished):
                // nothing of this run may overwrite it, and the heartbeat stops the run.
                if (_store.TryUpdateAsync(record, _storedAttempt).GetAwaiter().GetResult())
                {
                    _storedAttempt = record.Attempt;
                }
            }
            catch (Exception ex)
            {
                _logger.LogError(ex, "Could not store the state of job {JobId}", _job.Id);
            }
        }
    }
}
