using Microsoft.Extensions.Options;
using StableDiffusion.Server.Api.Replicate;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests;

public sealed class UploadRetentionTests
{
    [Fact]
    public void Uploads_expire_after_the_retention_time()
    {
        var time = new ShiftedTime();
        var store = new JobStore(Options.Create(new ResultsOptions { RetentionSeconds = 60 }), time);
        var file = FileUpload.Store(store, time, [1, 2, 3], "a.png", "image/png", null);

        time.Advance(TimeSpan.FromSeconds(59));
        store.Sweep();
        var kept = store.FindFile(file.Id);
        time.Advance(TimeSpan.FromSeconds(2));
        store.Sweep();

        Assert.NotNull(kept);
        Assert.Null(store.FindFile(file.Id));
        Assert.Equal(0, store.StoredBytes);
    }

    [Fact]
    public void Uploads_count_against_the_stored_byte_cap()
    {
        var store = new JobStore(Options.Create(new ResultsOptions { MaxStoredBytes = 2_500 }), TimeProvider.System);
        var first = FileUpload.Store(store, TimeProvider.System, new byte[2_000], null, null, null);

        FileUpload.Store(store, TimeProvider.System, new byte[1_000], null, null, null);

        Assert.Null(store.FindFile(first.Id));
        Assert.Equal(1_000, store.StoredBytes);
    }

    [Fact]
    public void Only_uploads_can_be_deleted_by_id()
    {
        var store = new JobStore(Options.Create(new ResultsOptions()), TimeProvider.System);
        var upload = FileUpload.Store(store, TimeProvider.System, [1], null, null, null);
        var output = new StoredFile(Ids.New(), "job", "out-0.png", "image/png", [1], DateTimeOffset.UtcNow);
        store.AddFiles([output]);

        // Outputs go with their prediction (retention), not by DELETE /v1/files/{id}.
        Assert.False(store.DeleteUpload(output.Id));
        Assert.True(store.DeleteUpload(upload.Id));
        Assert.False(store.DeleteUpload(upload.Id));
        Assert.NotNull(store.FindFile(output.Id));
        Assert.Null(store.FindFile(upload.Id));
    }
}
