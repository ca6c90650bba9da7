using StableDiffusion.Server.Jobs;

namespace StableDiffusion.Server.Tests.Support;

/// <summary>
/// Subscribes to every job the server creates and lets a test wait for a typed event (a step reported, a job
/// started) instead of polling an endpoint in a wall-clock window: deterministic on a busy machine.
/// </summary>
internal sealed class JobEventRecorder : IJobListener
{
    private readonly Lock _lock = new();
    private readonly List<(int JobIndex, JobEvent Event)> _events = [];
    private readonly List<(Func<int, JobEvent, bool> Predicate, TaskCompletionSource<JobEvent> Done)> _waiters = [];
    private int _jobs;

    public void OnCreated(Job job)
    {
        int index;
        lock (_lock)
        {
            index = _jobs++;
        }
        job.Subscribe(e => Record(index, e));
    }

    /// <summary>
    /// The first event, past or future, that matches; <c>jobIndex</c> counts jobs in creation order from 0.
    /// The two-minute limit is a safety net, not a timing assertion.
    /// </summary>
    public Task<JobEvent> WaitAsync(Func<int, JobEvent, bool> predicate)
    {
        var done = new TaskCompletionSource<JobEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            foreach (var (index, e) in _events)
            {
                if (predicate(index, e))
                {
                    return Task.FromResult(e);
                }
            }
            _waiters.Add((predicate, done));
        }
        return done.Task.WaitAsync(TimeSpan.FromMinutes(2));
    }

    /// <summary>Waits until job <paramref name="jobIndex"/> has finished denoising step <paramref name="step"/>.</summary>
    public Task<JobEvent> StepAsync(int jobIndex, int step)
        => WaitAsync((index, e) => index == jobIndex && e is JobProgress p && p.Step >= step);

    private void Record(int index, JobEvent e)
    {
        lock (_lock)
        {
            _events.Add((index, e));
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Predicate(index, e))
                {
                    _waiters[i].Done.TrySetResult(e);
                    _waiters.RemoveAt(i);
                }
            }
        }
    }
}
