using System.Net;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests;

public sealed class RetentionTests
{
    [Fact]
    public async Task Predictions_and_files_expire_after_the_retention_time()
    {
        var time = new ShiftedTime();
        await using var factory = new ServerFactory(new() { ["Results:RetentionSeconds"] = "600" }) { Time = time };
        var client = await factory.ReadyClientAsync();
        var done = await Wire.CreatedAsync(client, Wire.Input(), prefer: "wait");
        var file = done["output"]![0]!.GetValue<string>();
        var store = factory.Service<JobStore>();

        var keptEarly = await store.SweepAsync();
        time.Advance(TimeSpan.FromMinutes(11));
        var removed = await store.SweepAsync();

        Assert.Equal(0, keptEarly);
        Assert.Equal(1, removed);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/v1/predictions/{done.Id()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(file)).StatusCode);
        Assert.Equal(0, store.StoredBytes);
    }

    [Fact]
    public async Task Byte_cap_evicts_the_oldest_files_first()
    {
        var store = TestStores.Create(new ResultsOptions { MaxStoredBytes = 2_500 });

        await store.SaveAsync("a", "job-a", 1_000);
        await store.SaveAsync("b", "job-b", 1_000);
        await store.SaveAsync("c", "job-c", 1_000);

        Assert.Null(await store.FindFileAsync("a"));
        Assert.NotNull(await store.FindFileAsync("b"));
        Assert.NotNull(await store.FindFileAsync("c"));
        Assert.Equal(2_000, store.StoredBytes);
    }
}
