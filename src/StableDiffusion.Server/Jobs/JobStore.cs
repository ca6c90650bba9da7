using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;

namespace StableDiffusion.Server.Jobs;

/// <summary>
/// Predictions and their output files, in memory. Finished predictions expire after the retention time with their
/// files; files also go, oldest first, when their total size passes the configured cap.
/// </summary>
public sealed class JobStore(IOptions<ResultsOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Job> _jobs = new();
    private readonly ConcurrentDictionary<string, StoredFile> _files = new();
    private readonly ConcurrentQueue<StoredFile> _fileOrder = new();
    private readonly Lock _bytesLock = new();
    private long _storedBytes;
    private long _sequence;

    public long StoredBytes => Interlocked.Read(ref _storedBytes);

    public long NextSequence() => Interlocked.Increment(ref _sequence);

    public void Add(Job job) => _jobs[job.Id] = job;

    public Job? Find(string id) => _jobs.GetValueOrDefault(id);

    public StoredFile? FindFile(string id) => _files.GetValueOrDefault(id);

    /// <summary>Jobs still waiting for a worker.</summary>
    public IEnumerable<Job> Queued() => _jobs.Values.Where(j => j.Status == JobStatus.Starting);

    /// <summary>Newest first, starting after the cursor's sequence number.</summary>
    public IReadOnlyList<Job> Page(string? owner, long? beforeSequence, int count, out bool more)
    {
        var page = _jobs.Values
            .Where(j => j.Owner == owner && (beforeSequence is null || j.Sequence < beforeSequence))
            .OrderByDescending(j => j.Sequence)
            .Take(count + 1)
            .ToList();
        more = page.Count > count;
        if (more)
        {
            page.RemoveAt(count);
        }
        return page;
    }

    /// <summary>The <paramref name="count"/> jobs just newer than <paramref name="afterSequence"/>, newest first (a "previous" page).</summary>
    public IReadOnlyList<Job> PageNewer(string? owner, long afterSequence, int count)
    {
        var page = _jobs.Values
            .Where(j => j.Owner == owner && j.Sequence > afterSequence)
            .OrderBy(j => j.Sequence)
            .Take(count)
            .ToList();
        page.Reverse();
        return page;
    }

    /// <summary>Whether a newer page exists before <paramref name="afterSequence"/> (for the <c>previous</c> cursor).</summary>
    public bool AnyNewerThan(string? owner, long afterSequence) => _jobs.Values.Any(j => j.Owner == owner && j.Sequence > afterSequence);

    /// <summary>Stores output files, then evicts the oldest files while the total passes the cap.</summary>
    public void AddFiles(IEnumerable<StoredFile> files)
    {
        foreach (var file in files)
        {
            _files[file.Id] = file;
            _fileOrder.Enqueue(file);
            Interlocked.Add(ref _storedBytes, file.Bytes.LongLength);
        }
        EvictOverCap();
    }

    /// <summary>Deletes an uploaded file (<c>DELETE /v1/files/{id}</c>); output files go with their prediction.</summary>
    public bool DeleteUpload(string id) => _files.TryGetValue(id, out var file) && file.IsUpload && RemoveFile(id);

    /// <summary>Removes predictions finished longer ago than the retention time, and their files.</summary>
    public int Sweep()
    {
        var cutoff = time.GetUtcNow() - TimeSpan.FromSeconds(options.Value.RetentionSeconds);
        var removed = 0;
        foreach (var job in _jobs.Values)
        {
            if (job.CompletedAt is { } completed && completed < cutoff && _jobs.TryRemove(job.Id, out _))
            {
                foreach (var file in job.Outputs)
                {
                    RemoveFile(file.Id);
                }
                removed++;
            }
        }
        foreach (var file in _files.Values)
        {
            if (file.IsUpload && file.CreatedAt < cutoff && RemoveFile(file.Id))
            {
                removed++;
            }
        }
        return removed;
    }

    private void EvictOverCap()
    {
        var cap = options.Value.MaxStoredBytes;
        lock (_bytesLock)
        {
            while (Interlocked.Read(ref _storedBytes) > cap && _fileOrder.TryDequeue(out var oldest))
            {
                if (RemoveFile(oldest.Id) && _jobs.TryGetValue(oldest.JobId, out var job))
                {
                    job.EvictOutput(oldest.Id);
                }
            }
        }
    }

    private bool RemoveFile(string id)
    {
        if (!_files.TryRemove(id, out var file))
        {
            return false;
        }
        Interlocked.Add(ref _storedBytes, -file.Bytes.LongLength);
        return true;
    }
}
