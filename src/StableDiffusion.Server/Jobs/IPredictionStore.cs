namespace StableDiffusion.Server.Jobs;

/// <summary>
/// Where predictions and file metadata live (DESIGN §9): SQLite for one box, Redis for many. Updates are
/// compare-and-set on the attempt, so a stale worker can never overwrite a newer run or a finished prediction.
/// </summary>
internal interface IPredictionStore
{
    Task<long> NextSequenceAsync(CancellationToken cancellationToken = default);

    /// <summary>Stores a new prediction.</summary>
    Task CreateAsync(JobRecord record, CancellationToken cancellationToken = default);

    Task<JobRecord?> GetAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Removes a prediction that was never accepted (the queue refused it); false when there was none.</summary>
    Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces the stored state when it still belongs to <paramref name="expectedAttempt"/> and is not terminal;
    /// false (nothing written) otherwise.
    /// </summary>
    Task<bool> TryUpdateAsync(JobRecord record, int expectedAttempt, CancellationToken cancellationToken = default);

    /// <summary>Newest first: up to <paramref name="count"/> predictions of <paramref name="owner"/> older than
    /// <paramref name="beforeSequence"/> (all when null), and whether more follow.</summary>
    Task<(IReadOnlyList<JobRecord> Page, bool More)> ListAsync(string? owner, long? beforeSequence, int count, CancellationToken cancellationToken = default);

    /// <summary>The <paramref name="count"/> predictions just newer than <paramref name="afterSequence"/>, newest first,
    /// and whether even newer ones exist.</summary>
    Task<(IReadOnlyList<JobRecord> Page, bool More)> ListNewerAsync(string? owner, long afterSequence, int count, CancellationToken cancellationToken = default);

    /// <summary>Predictions not yet finished (queued or processing), oldest first: what a restart picks up.</summary>
    Task<IReadOnlyList<JobRecord>> UnfinishedAsync(CancellationToken cancellationToken = default);

    /// <summary>Removes predictions finished before <paramref name="cutoff"/> and returns them (their outputs go too).</summary>
    Task<IReadOnlyList<JobRecord>> SweepAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default);

    Task SaveFileAsync(StoredFile file, CancellationToken cancellationToken = default);

    Task<StoredFile?> GetFileAsync(string id, CancellationToken cancellationToken = default);

    Task<bool> DeleteFileAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Removes uploads created before <paramref name="cutoff"/> and returns them.</summary>
    Task<IReadOnlyList<StoredFile>> SweepUploadsAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default);
}
