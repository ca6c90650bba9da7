using System.Net;
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

        var keptEarly = store.Sweep();
        time.Advance(TimeSpan.FromMinutes(11));
        var removed = store.Sweep();

        Assert.Equal(0, keptEarly);
        Assert.Equal(1, removed);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/v1/predictions/{done.Id()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(file)).StatusCode);
        Assert.Equal(0, store.StoredBytes);
    }

    [Fact]
    public async Task Byte_cap_evicts_the_oldest_files_first()
    {
        await using var factory = new ServerFactory(new() { ["Results:MaxStoredBytes"] = "1024" });
        var client = await factory.ReadyClientAsync();
        var first = await Wire.CreatedAsync(client, Wire.Input(size: 128, seed: 1), prefer: "wait");
        var firstFile = first["output"]![0]!.GetValue<string>();
        var store = factory.Service<JobStore>();
        var firstSize = (await client.GetByteArrayAsync(firstFile)).Length;
        Assert.True(firstSize > 512, $"test assumes a 128x128 noise PNG is over half the cap, it is {firstSize} bytes");

        var second = await Wire.CreatedAsync(client, Wire.Input(size: 128, seed: 2), prefer: "wait");

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(firstFile)).StatusCode);
        Assert.True(store.StoredBytes <= 1024);
        Assert.Equal("succeeded", (await Wire.GetAsync(client, first.Id())).Status());
        Assert.NotNull(second);
    }
}
