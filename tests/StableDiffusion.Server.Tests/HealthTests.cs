using System.Net;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests;

public sealed class HealthTests
{
    [Fact]
    public async Task Ready_and_live_once_models_are_loaded()
    {
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task Readiness_includes_the_backend_and_fails_when_its_database_is_gone()
    {
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();
        var before = await client.GetStringAsync("/health/ready");

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(factory.DataDirectory, recursive: true);
        File.WriteAllText(factory.DataDirectory, "not a directory"); // the database can no longer be opened
        var after = await client.GetAsync("/health/ready");

        Assert.Contains("\"name\":\"storage\",\"status\":\"Healthy\"", before);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, after.StatusCode);
        Assert.Contains("embedded database does not answer", await after.Content.ReadAsStringAsync());
        File.Delete(factory.DataDirectory);
        Directory.CreateDirectory(factory.DataDirectory);
    }

    [Fact]
    public async Task Not_ready_when_a_model_fails_to_load_but_still_live()
    {
        var broken = TinyModel.TempFolder("broken");
        Directory.CreateDirectory(broken);
        await using var factory = new ServerFactory(new() { ["Models:Items:1:Name"] = "broken", ["Models:Items:1:Path"] = broken });
        var client = await factory.ReadyClientAsync();

        var ready = await client.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("broken", await ready.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
    }

    [Fact]
    public async Task With_no_loadable_model_ready_fails_and_jobs_fail_at_once()
    {
        var broken = TinyModel.TempFolder("broken");
        Directory.CreateDirectory(broken);
        await using var factory = new ServerFactory(new() { ["Models:Items:0:Path"] = broken });
        var client = await factory.ReadyClientAsync();

        var ready = await client.GetAsync("/health/ready");
        var job = await Wire.CreatedAsync(client, Wire.Input(), prefer: "wait");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("could not load", await ready.Content.ReadAsStringAsync());
        Assert.Equal("failed", job.Status());
        Assert.Contains("not loaded", job["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task Invalid_configuration_stops_the_host_at_start()
    {
        await using var factory = new ServerFactory(new() { ["Queue:Capacity"] = "0" });

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("Capacity", error.ToString());
    }
}
