using Microsoft.Extensions.Options;
using StableDiffusion.Server.Api.Replicate;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests;

public sealed class UploadRetentionTests
{
    [Fact]
    public async Task Uploads_expire_after_the_retention_time()
    {
        var time = new ShiftedTime();
        var store = TestStores.Create(new ResultsOptions { RetentionSeconds = 60 }, time);
        var file = await FileUpload.StoreAsync(store, time, [1, 2, 3], "a.png", "image/png", null);

        time.Advance(TimeSpan.FromSeconds(59));
        await store.SweepAsync();
        var kept = await store.FindFileAsync(file.Id);
        time.Advance(TimeSpan.FromSeconds(2));
        await store.SweepAsync();

        Assert.NotNull(kept);
        Assert.Null(await store.FindFileAsync(file.Id));
        Assert.Equal(0, store.StoredBytes);
    }

    [Fact]
    public async Task Uploads_count_against_the_stored_byte_cap()
    {
        var store = TestStores.Create(new ResultsOptions { MaxStoredBytes = 2_500 });
        var first = await FileUpload.StoreAsync(store, TimeProvider.System, new byte[2_000], null, null, null);

        await FileUpload.StoreAsync(store, TimeProvider.System, new byte[1_000], null, null, null);

        Assert.Null(await store.FindFileAsync(first.Id));
        Assert.Equal(1_000, store.StoredBytes);
    }

    [Fact]
    public async Task Only_uploads_can_be_deleted_by_id()
    {
        var store = TestStores.Create();
        var upload = await FileUpload.StoreAsync(store, TimeProvider.System, [1], null, null, null);
        var output = await store.SaveAsync(Ids.New(), "job", 1);

        // Outputs go with their prediction (retention), not by DELETE /v1/files/{id}.
        Assert.False(await store.DeleteUploadAsync(output.Id));
        Assert.True(await store.DeleteUploadAsync(upload.Id));
        Assert.False(await store.DeleteUploadAsync(upload.Id));
        Assert.NotNull(await store.FindFileAsync(output.Id));
        Assert.Null(await store.FindFileAsync(upload.Id));
    }
}
