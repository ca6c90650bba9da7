using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Models;

namespace StableDiffusion.Server.Jobs;

/// <summary>
/// This process's view of the predictions in the <see cref="IPredictionStore"/> and of the files in the
/// <see cref="IOutputStore"/>. Unfinished jobs this process follows are kept live here (one <see cref="Job"/> per id,
/// so every waiter sees the same transitions); finished ones are read from the store when asked for.
/// </summary>
/// <remarks>
/// The byte cap (<c>Results:MaxStoredBytes</c>) counts the files this process stored since it started, oldest evicted
/// first; files from before a restart leave by retention.
/// </remarks>
internal sealed class JobStore(
    IPredictionStore predictions,
    IOutputStore outputs,
    FileLinks links,
    ModelCatalog catalog,
    IOptions<ResultsOptions> options,
    TimeProvider time,
    ILogger<JobStore> logger,
    IJobMirror? mirror = null)
{
    private readonly ConcurrentDictionary<string, Job> _live = new();
    private readonly ConcurrentQueue<StoredFile> _fileOrder = new();
    private readonly ConcurrentDictionary<string, long> _counted = new();
    private long _storedBytes;

    public long StoredBytes => Interlocked.Read(ref _storedBytes);

    public IPredictionStore Predictions => predictions;

    public Task<long> NextSequenceAsync() => predictions.NextSequenceAsync();

    /// <summary>Stores a new job and follows it; its state changes are written through from now on.</summary>
    public async Task AddAsync(Job job)
    {
        await predictions.CreateAsync(job.ToRecord());
        Follow(job);
        mirror?.Follow(job);
    }

    /// <summary>Stops following a job (it finished elsewhere).</summary>
    public void Unfollow(string id) => _live.TryRemove(id, out _);

    /// <summary>The live job with this id, if this process follows it.</summary>
    public Job? Live(string id) => _live.GetValueOrDefault(id);

    /// <summary>Removes a job the queue refused: it was never accepted.</summary>
    public async Task ForgetAsync(Job job)
    {
        _live.TryRemove(job.Id, out _);
        await predictions.DeleteAsync(job.Id);
    }

    /// <summary>Follows a job restored from the store (recovery, a worker's claim) and writes its changes through.</summary>
    public void Follow(Job job)
    {
        _live[job.Id] = job;
        JobPersistence.Attach(job, predictions, logger, () => _live.TryRemove(job.Id, out _));
    }

    /// <summary>The live job, or the stored prediction; null when unknown or expired.</summary>
    public async Task<Job?> FindAsync(string id)
    {
        if (_live.TryGetValue(id, out var live))
        {
            return live;
        }
        if (await predictions.GetAsync(id) is not { } record)
        {
            return null;
        }
        var job = ToJob(record);
        if (!job.Status.IsTerminal() && mirror is not null && _live.TryAdd(job.Id, job))
        {
            // Queued or running elsewhere: follow it, so waits, streams and cancels here see it move.
            Follow(job);
            mirror.Follow(job);
        }
        return _live.GetValueOrDefault(id) ?? job;
    }

    /// <summary>Newest first, starting after the cursor's sequence number.</summary>
    public async Task<(IReadOnlyList<Job> Page, bool More)> PageAsync(string? owner, long? beforeSequence, int count)
    {
        var (page, more) = await predictions.ListAsync(owner, beforeSequence, count);
        return (page.Select(ToJob).ToArray(), more);
    }

    /// <summary>The <paramref name="count"/> jobs just newer than <paramref name="afterSequence"/>, newest first.</summary>
    public async Task<(IReadOnlyList<Job> Page, bool More)> PageNewerAsync(string? owner, long afterSequence, int count)
    {
        var (page, more) = await predictions.ListNewerAsync(owner, afterSequence, count);
        return (page.Select(ToJob).ToArray(), more);
    }

    /// <summary>Jobs still waiting for a worker among those this process follows.</summary>
    public IEnumerable<Job> Queued() => _live.Values.Where(j => j.Status == JobStatus.Starting);

    /// <summary>Writes a file's bytes and metadata, then evicts the oldest files while the total passes the cap.</summary>
    public async Task<StoredFile> SaveFileAsync(StoredFile file, byte[] bytes)
    {
        file = links.Sign(file, TimeSpan.FromSeconds(options.Value.RetentionSeconds));
        await outputs.PutAsync(file.Key, bytes, file.ContentType);
        await predictions.SaveFileAsync(file);
        _fileOrder.Enqueue(file);
        _counted[file.Id] = file.Size;
        Interlocked.Add(ref _storedBytes, file.Size);
        await EvictOverCapAsync();
        return file;
    }

    public async Task<StoredFile?> FindFileAsync(string id)
        => await predictions.GetFileAsync(id) is { Evicted: false } file ? file : null;

    /// <summary>The file's bytes; null once they are gone (evicted, expired).</summary>
    public Task<byte[]?> ReadFileAsync(StoredFile file) => outputs.GetAsync(file.Key);

    /// <summary>Deletes an uploaded file (<c>DELETE /v1/files/{id}</c>); output files go with their prediction.</summary>
    public async Task<bool> DeleteUploadAsync(string id)
        => await predictions.GetFileAsync(id) is { IsUpload: true } file && await RemoveFileAsync(file);

    /// <summary>Removes predictions finished longer ago than the retention time, their files, and old uploads.</summary>
    public async Task<int> SweepAsync()
    {
        var cutoff = time.GetUtcNow() - TimeSpan.FromSeconds(options.Value.RetentionSeconds);
        var removed = 0;
        foreach (var record in await predictions.SweepAsync(cutoff))
        {
            _live.TryRemove(record.Id, out _);
            foreach (var file in record.Outputs)
            {
                await DeleteBytesAsync(file);
            }
            removed++;
        }
        foreach (var upload in await predictions.SweepUploadsAsync(cutoff))
        {
            await DeleteBytesAsync(upload);
            removed++;
        }
        return removed;
    }

    private Job ToJob(JobRecord record)
        => _live.TryGetValue(record.Id, out var live) ? live
            : Job.FromRecord(record, catalog.Find(record.Model) ?? catalog.Default);

    private async Task EvictOverCapAsync()
    {
        var cap = options.Value.MaxStoredBytes;
        while (Interlocked.Read(ref _storedBytes) > cap && _fileOrder.TryDequeue(out var oldest))
        {
            if (await RemoveFileAsync(oldest, evictOnly: !oldest.IsUpload) && _live.TryGetValue(oldest.JobId, out var job))
            {
                job.EvictOutput(oldest.Id);
            }
        }
    }

    /// <summary>Deletes a file's bytes; an upload's metadata goes too, an output's stays (marked evicted) so the
    /// prediction keeps its URL, which then answers 404.</summary>
    private async Task<bool> RemoveFileAsync(StoredFile file, bool evictOnly = false)
    {
        if (await predictions.GetFileAsync(file.Id) is not { Evicted: false } stored)
        {
            return false;
        }
        if (evictOnly)
        {
            await predictions.SaveFileAsync(stored with { Evicted = true });
        }
        else
        {
            await predictions.DeleteFileAsync(file.Id);
        }
        await DeleteBytesAsync(stored);
        return true;
    }

    private async Task DeleteBytesAsync(StoredFile file)
    {
        await outputs.DeleteAsync(file.Key);
        if (_counted.TryRemove(file.Id, out var size))
        {
            Interlocked.Add(ref _storedBytes, -size);
        }
    }
}
