using Microsoft.Extensions.Options;
using StableDiffusion.Server.Backends.Redis;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests.Backends;

/// <summary>The prediction store contract (IPredictionStore's documentation) against a real Redis.</summary>
public sealed class RedisPredictionStoreTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private const int RetentionSeconds = 600;
    private readonly IOptions<StorageOptions> _storage = RedisFixture.Storage();

    private RedisPredictionStore NewStore() => new(redis.Connection, _storage,
        Options.Create(new ResultsOptions { RetentionSeconds = RetentionSeconds }));

    private string Prefix => _storage.Value.RedisPrefix;

    [RedisFact]
    public async Task Created_record_reads_back_as_written()
    {
        var store = NewStore();
        var record = Records.New(await store.NextSequenceAsync(), owner: "key-hash") with { Webhook = new Uri("http://example.test/hook"), WebhookEvents = ["completed"] };

        await store.CreateAsync(record);
        var read = await store.GetAsync(record.Id);

        Assert.NotNull(read);
        Assert.Equal(record.Id, read.Id);
        Assert.Equal(record.Sequence, read.Sequence);
        Assert.Equal("key-hash", read.Owner);
        Assert.Equal(record.Request, read.Request);
        Assert.Equal("a lighthouse", read.Input.GetProperty("prompt").GetString());
        Assert.Equal(record.Webhook, read.Webhook);
        Assert.Equal(["completed"], read.WebhookEvents);
        Assert.Equal(JobStatus.Starting, read.Status);
        Assert.Null(await store.GetAsync("no-such-id"));
    }

    [RedisFact]
    public async Task Creating_an_existing_id_throws_and_keeps_the_first()
    {
        var store = NewStore();
        var record = Records.New(1);
        await store.CreateAsync(record);

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.CreateAsync(record with { Model = "other" }));

        Assert.Equal("demo-random-weights", (await store.GetAsync(record.Id))!.Model);
    }

    [RedisFact]
    public async Task Sequence_numbers_increase_by_one()
    {
        var store = NewStore();

        var first = await store.NextSequenceAsync();
        var second = await store.NextSequenceAsync();

        Assert.Equal(1, first);
        Assert.Equal(2, second);
    }

    [RedisFact]
    public async Task Update_for_the_stored_attempt_is_written()
    {
        var store = NewStore();
        var record = Records.New(1);
        await store.CreateAsync(record);

        var updated = await store.TryUpdateAsync(record.Started(attempt: 1), expectedAttempt: 0);

        Assert.True(updated);
        var read = await store.GetAsync(record.Id);
        Assert.Equal(JobStatus.Processing, read!.Status);
        Assert.Equal(1, read.Attempt);
    }

    [RedisFact]
    public async Task Update_from_a_stale_attempt_is_refused()
    {
        var store = NewStore();
        var record = Records.New(1);
        await store.CreateAsync(record);
        Assert.True(await store.TryUpdateAsync(record.Started(1), expectedAttempt: 0));
        // A second worker took the job over: attempt 2.
        Assert.True(await store.TryUpdateAsync(record.Started(2), expectedAttempt: 1));

        // The first worker, unaware, finishes its run.
        var stale = await store.TryUpdateAsync(record.Started(1).Succeeded(DateTimeOffset.UtcNow), expectedAttempt: 1);

        Assert.False(stale);
        var read = await store.GetAsync(record.Id);
        Assert.Equal(JobStatus.Processing, read!.Status);
        Assert.Equal(2, read.Attempt);
    }

    [RedisFact]
    public async Task Update_of_a_finished_prediction_is_refused()
    {
        var store = NewStore();
        var record = Records.New(1);
        await store.CreateAsync(record);
        await store.TryUpdateAsync(record with { Status = JobStatus.Canceled, CompletedAt = DateTimeOffset.UtcNow }, expectedAttempt: 0);

        var late = await store.TryUpdateAsync(record.Started(0), expectedAttempt: 0);

        Assert.False(late);
        Assert.Equal(JobStatus.Canceled, (await store.GetAsync(record.Id))!.Status);
    }

    [RedisFact]
    public async Task Finished_prediction_and_its_files_expire_after_retention_as_a_backstop()
    {
        var store = NewStore();
        var record = Records.New(1);
        await store.CreateAsync(record);
        var output = record.Output();
        await store.SaveFileAsync(output);
        var db = redis.Connection.GetDatabase();
        Assert.Null(await db.KeyTimeToLiveAsync(Prefix + "job:" + record.Id));

        await store.TryUpdateAsync(record.Succeeded(DateTimeOffset.UtcNow, output), expectedAttempt: 0);

        var expected = TimeSpan.FromSeconds(RetentionSeconds) + RedisPredictionStore.ExpiryMargin;
        var jobTtl = await db.KeyTimeToLiveAsync(Prefix + "job:" + record.Id);
        var fileTtl = await db.KeyTimeToLiveAsync(Prefix + "file:" + output.Id);
        Assert.InRange(jobTtl!.Value, expected - TimeSpan.FromSeconds(5), expected);
        Assert.InRange(fileTtl!.Value, expected - TimeSpan.FromSeconds(5), expected);
    }

    [RedisFact]
    public async Task List_pages_newest_first_and_says_whether_more_follow()
    {
        var store = NewStore();
        var records = await CreateAsync(store, 5, owner: null);

        var (first, firstMore) = await store.ListAsync(null, beforeSequence: null, count: 2);
        var (second, secondMore) = await store.ListAsync(null, beforeSequence: first[^1].Sequence, count: 2);
        var (last, lastMore) = await store.ListAsync(null, beforeSequence: second[^1].Sequence, count: 2);

        Assert.Equal([records[4].Id, records[3].Id], first.Select(r => r.Id));
        Assert.True(firstMore);
        Assert.Equal([records[2].Id, records[1].Id], second.Select(r => r.Id));
        Assert.True(secondMore);
        Assert.Equal([records[0].Id], last.Select(r => r.Id));
        Assert.False(lastMore);
    }

    [RedisFact]
    public async Task List_newer_gives_the_page_just_after_the_cursor_newest_first()
    {
        var store = NewStore();
        var records = await CreateAsync(store, 5, owner: null);

        var (previous, more) = await store.ListNewerAsync(null, afterSequence: records[0].Sequence, count: 2);
        var (newest, newestMore) = await store.ListNewerAsync(null, afterSequence: records[2].Sequence, count: 2);

        Assert.Equal([records[2].Id, records[1].Id], previous.Select(r => r.Id));
        Assert.True(more);
        Assert.Equal([records[4].Id, records[3].Id], newest.Select(r => r.Id));
        Assert.False(newestMore);
    }

    [RedisFact]
    public async Task Lists_are_per_owner()
    {
        var store = NewStore();
        var alice = await CreateAsync(store, 2, owner: "alice");
        var bob = await CreateAsync(store, 1, owner: "bob");
        var anonymous = await CreateAsync(store, 1, owner: null);

        Assert.Equal(alice.Select(r => r.Id).Reverse(), (await store.ListAsync("alice", null, 10)).Page.Select(r => r.Id));
        Assert.Equal([bob[0].Id], (await store.ListAsync("bob", null, 10)).Page.Select(r => r.Id));
        Assert.Equal([anonymous[0].Id], (await store.ListAsync(null, null, 10)).Page.Select(r => r.Id));
    }

    [RedisFact]
    public async Task List_skips_records_that_expired_and_still_fills_the_page()
    {
        var store = NewStore();
        var records = await CreateAsync(store, 4, owner: null);
        // As if the backstop expiry removed one record before any sweep did.
        await redis.Connection.GetDatabase().KeyDeleteAsync(Prefix + "job:" + records[3].Id);

        var (page, more) = await store.ListAsync(null, null, 2);

        Assert.Equal([records[2].Id, records[1].Id], page.Select(r => r.Id));
        Assert.True(more);
    }

    [RedisFact]
    public async Task Unfinished_lists_queued_and_processing_predictions_oldest_first()
    {
        var store = NewStore();
        var records = await CreateAsync(store, 3, owner: null);
        await store.TryUpdateAsync(records[1].Started(1), expectedAttempt: 0);
        await store.TryUpdateAsync(records[2].Succeeded(DateTimeOffset.UtcNow), expectedAttempt: 0);

        var unfinished = await store.UnfinishedAsync();

        Assert.Equal([records[0].Id, records[1].Id], unfinished.Select(r => r.Id));
        Assert.Equal(JobStatus.Processing, unfinished[1].Status);
    }

    [RedisFact]
    public async Task Sweep_removes_predictions_finished_before_the_cutoff_with_their_files()
    {
        var store = NewStore();
        var now = DateTimeOffset.UtcNow;
        var records = await CreateAsync(store, 3, owner: "alice");
        var oldOutput = records[0].Output();
        await store.SaveFileAsync(oldOutput);
        await store.TryUpdateAsync(records[0].Succeeded(now.AddMinutes(-20), oldOutput), expectedAttempt: 0);
        await store.TryUpdateAsync(records[1].Succeeded(now.AddMinutes(-1)), expectedAttempt: 0);

        var swept = await store.SweepAsync(now.AddMinutes(-10));

        Assert.Equal([records[0].Id], swept.Select(r => r.Id));
        Assert.Equal([oldOutput.Id], swept[0].Outputs.Select(f => f.Id));
        Assert.Null(await store.GetAsync(records[0].Id));
        Assert.Null(await store.GetFileAsync(oldOutput.Id));
        Assert.Equal([records[2].Id, records[1].Id], (await store.ListAsync("alice", null, 10)).Page.Select(r => r.Id));
        Assert.Empty(await store.SweepAsync(now.AddMinutes(-10)));
    }

    [RedisFact]
    public async Task Delete_removes_a_prediction_from_every_index()
    {
        var store = NewStore();
        var records = await CreateAsync(store, 2, owner: "alice");

        Assert.True(await store.DeleteAsync(records[1].Id));
        Assert.False(await store.DeleteAsync(records[1].Id));

        Assert.Null(await store.GetAsync(records[1].Id));
        Assert.Equal([records[0].Id], (await store.ListAsync("alice", null, 10)).Page.Select(r => r.Id));
        Assert.Equal([records[0].Id], (await store.UnfinishedAsync()).Select(r => r.Id));
    }

    [RedisFact]
    public async Task File_metadata_round_trips_without_the_bytes_and_deletes_once()
    {
        var store = NewStore();
        var file = new StoredFile(Ids.New(), "", "photo.png", "image/png", 3, DateTimeOffset.UtcNow) { Metadata = """{"k":"v"}""" };

        await store.SaveFileAsync(file);
        var read = await store.GetFileAsync(file.Id);

        Assert.NotNull(read);
        Assert.Equal((file.Id, file.JobId, file.FileName, file.ContentType, file.Metadata), (read.Id, read.JobId, read.FileName, read.ContentType, read.Metadata));
        Assert.Equal(file.CreatedAt, read.CreatedAt);
        Assert.Equal(3, read.Size); // metadata only: the bytes belong to the output store, never to Redis
        Assert.True(await store.DeleteFileAsync(file.Id));
        Assert.False(await store.DeleteFileAsync(file.Id));
        Assert.Null(await store.GetFileAsync(file.Id));
    }

    [RedisFact]
    public async Task Sweep_uploads_removes_uploads_created_before_the_cutoff()
    {
        var store = NewStore();
        var now = DateTimeOffset.UtcNow;
        var old = new StoredFile(Ids.New(), "", "old.png", "image/png", 0, now.AddMinutes(-30));
        var recent = new StoredFile(Ids.New(), "", "new.png", "image/png", 0, now);
        await store.SaveFileAsync(old);
        await store.SaveFileAsync(recent);

        var swept = await store.SweepUploadsAsync(now.AddMinutes(-10));

        Assert.Equal([old.Id], swept.Select(f => f.Id));
        Assert.Null(await store.GetFileAsync(old.Id));
        Assert.NotNull(await store.GetFileAsync(recent.Id));
    }

    private static async Task<JobRecord[]> CreateAsync(RedisPredictionStore store, int count, string? owner)
    {
        var records = new JobRecord[count];
        for (var i = 0; i < count; i++)
        {
            records[i] = Records.New(await store.NextSequenceAsync(), owner);
            await store.CreateAsync(records[i]);
        }
        return records;
    }
}
