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
    public void Byte_cap_evicts_the_oldest_files_first()
    {
        var store = new JobStore(Options.Create(new ResultsOptions { MaxStoredBytes = 2_500 }), TimeProvider.System);
        StoredFile File(string id) => new(id, "job-" + id, id + ".png", "image/png", new byte[1_000], DateTimeOffset.UtcNow);

        store.AddFiles([File("a"), File("b")]);
        store.AddFiles([File("c")]);

        Assert.Null(store.FindFile("a"));
        Assert.NotNull(store.FindFile("b"));
        Assert.NotNull(store.FindFile("c"));
        Assert.Equal(2_000, store.StoredBytes);
    }
}
