using System.Collections.Concurrent;
using StableDiffusion.Server.Jobs;

namespace StableDiffusion.Server.Backends.Redis;

/// <summary>
/// An API replica's view of jobs that workers elsewhere run: their events arrive over pub/sub and are applied to the
/// local <see cref="Job"/>, so <c>Prefer: wait</c>, SSE, A1111 progress and cancel work on any replica.
/// </summary>
internal sealed class RedisJobMirror(IJobEventBus bus) : IJobMirror
{
    private readonly ConcurrentDictionary<string, (Job Job, IDisposable Subscription)> _followed = new();

    /// <summary>Jobs followed now (the refresher re-reads them from the store: pub/sub is at most once).</summary>
    public IEnumerable<Job> Followed => _followed.Values.Select(f => f.Job);

    public void Follow(Job job)
    {
        if (job.Status.IsTerminal() || _followed.ContainsKey(job.Id))
        {
            return;
        }
        var subscription = bus.Subscribe(job.Id, job.ApplyRemote);
        if (!_followed.TryAdd(job.Id, (job, subscription)))
        {
            subscription.Dispose();
            return;
        }
        _ = job.Completion.ContinueWith(_ => Unfollow(job.Id), TaskScheduler.Default);
    }

    public void RequestCancel(Job job) => bus.RequestCancel(job.Id);

    public void Unfollow(string id)
    {
        if (_followed.TryRemove(id, out var followed))
        {
            followed.Subscription.Dispose();
        }
    }
}
