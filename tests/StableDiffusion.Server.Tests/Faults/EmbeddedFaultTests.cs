using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests.Faults;

/// <summary>
/// The embedded backend against real process deaths: the server is a real process, killed with SIGKILL or stopped
/// with SIGTERM, and started again on the same data directory.
/// </summary>
public sealed class EmbeddedFaultTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("sd-fault-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private Dictionary<string, string> Settings(int graceSeconds = 20) => new()
    {
        ["Storage:DataDirectory"] = _data,
        ["Queue:ShutdownGraceSeconds"] = graceSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    [Fact]
    public async Task Kill_9_mid_queue_then_restart_keeps_finished_runs_queued_and_reruns_the_interrupted_job()
    {
        var first = await ServerProcess.StartAsync(Settings());
        var finished = await Wire.CreatedAsync(first.Client, Wire.Input(), prefer: "wait");
        var fileBytes = await first.Client.GetByteArrayAsync(FilePath(finished));
        var running = await Wire.RunningSlowJobAsync(first.Client);
        var queued = new[] { await Wire.CreatedAsync(first.Client, Wire.Input(seed: 2)), await Wire.CreatedAsync(first.Client, Wire.Input(seed: 3)) };

        first.Kill();
        await using var second = await ServerProcess.StartAsync(Settings());
        var client = second.Client;
        var finishedAfter = await Wire.GetAsync(client, finished.Id());
        var fileAfter = await client.GetByteArrayAsync(FilePath(finishedAfter));
        var rerun = await Wire.WaitAsync(client, running.Id(), p => p.Status() == "processing" && p["logs"]!.GetValue<string>().Contains("| 1/"));
        await client.PostAsync($"/v1/predictions/{running.Id()}/cancel", null);
        var queuedAfter = new List<JsonObject>();
        foreach (var q in queued)
        {
            queuedAfter.Add(await Wire.WaitDoneAsync(client, q.Id()));
        }
        var list = await client.GetFromJsonAsync<JsonObject>("/v1/predictions");

        Assert.Equal("succeeded", finishedAfter.Status());
        Assert.Equal(fileBytes, fileAfter);
        Assert.Contains("Attempt 1 was interrupted", rerun["logs"]!.GetValue<string>());
        Assert.Contains("as attempt 2", rerun["logs"]!.GetValue<string>());
        Assert.All(queuedAfter, q => Assert.Equal("succeeded", q.Status()));
        Assert.Equal(4, list!["results"]!.AsArray().Count);
    }

    [Fact]
    public async Task A_job_interrupted_on_every_attempt_fails_with_a_clear_error()
    {
        var settings = Settings();
        settings["Storage:MaxAttempts"] = "2";
        var server = await ServerProcess.StartAsync(settings);
        var running = await Wire.RunningSlowJobAsync(server.Client);
        server.Kill();
        server = await ServerProcess.StartAsync(settings);
        await Wire.WaitAsync(server.Client, running.Id(), p => p.Status() == "processing");
        server.Kill();

        await using var last = await ServerProcess.StartAsync(settings);
        var failed = await Wire.WaitDoneAsync(last.Client, running.Id());

        Assert.Equal("failed", failed.Status());
        Assert.Contains("interrupted on each of its 2 attempts", failed["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task Sigterm_answers_every_waiting_client_and_hands_the_running_job_back_within_the_grace()
    {
        await using var server = await ServerProcess.StartAsync(Settings(graceSeconds: 2));
        var client = server.Client;
        var waitingOnRunning = Wire.CreateAsync(client, Wire.SlowInput(), prefer: "wait=60");
        var running = await WaitForAnyRunningAsync(client);
        var waitingOnQueued = Wire.CreateAsync(client, Wire.Input(), prefer: "wait=60");
        var openAi = client.PostAsJsonAsync("/v1/images/generations", new { prompt = "queued", size = "64x64", response_format = "b64_json" });
        var stream = client.GetStringAsync($"/v1/predictions/{running}/stream");
        await Task.Delay(500); // let the queued requests reach the server

        var exit = await server.TerminateAsync(TimeSpan.FromSeconds(60));
        var onRunning = await waitingOnRunning;
        var onQueued = await waitingOnQueued;
        var openAiAnswer = await openAi;
        var streamText = await stream;

        Assert.Equal(0, exit);
        Assert.Equal(HttpStatusCode.Created, onRunning.StatusCode);
        var handedBack = JsonNode.Parse(await onRunning.Content.ReadAsStringAsync())!;
        Assert.Equal("starting", handedBack["status"]!.GetValue<string>());
        Assert.Contains("The server stopped during attempt 1", handedBack["logs"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Created, onQueued.StatusCode);
        Assert.Equal("starting", JsonNode.Parse(await onQueued.Content.ReadAsStringAsync())!["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, openAiAnswer.StatusCode);
        Assert.NotNull(JsonNode.Parse(await openAiAnswer.Content.ReadAsStringAsync())!["error"]);
        Assert.Contains("event: logs", streamText);
        Assert.DoesNotContain("event: done", streamText);
    }

    private static string FilePath(JsonObject prediction)
        => new Uri(prediction["output"]![0]!.GetValue<string>()).PathAndQuery;

    private static async Task<string> WaitForAnyRunningAsync(HttpClient client)
    {
        var until = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < until)
        {
            var list = await client.GetFromJsonAsync<JsonObject>("/v1/predictions");
            if (list!["results"]!.AsArray().FirstOrDefault(p => p!["status"]!.GetValue<string>() == "processing"
                    && p["logs"]!.GetValue<string>().Contains("| 1/")) is { } running)
            {
                return running["id"]!.GetValue<string>();
            }
            await Task.Delay(50);
        }
        throw new TimeoutException("no job started");
    }
}

/// <summary>The demo model's first-start build, raced by several processes sharing one home directory.</summary>
public sealed class DemoModelRaceTests
{
    [Fact]
    public async Task Three_processes_starting_at_once_build_the_demo_model_once_and_all_serve()
    {
        var root = Directory.CreateTempSubdirectory("sd-demo-race-").FullName;
        var demo = Path.Combine(root, "demo-random-weights");
        var servers = Enumerable.Range(0, 3).Select(i => ServerProcess.Launch(new()
        {
            ["Models:DemoModelPath"] = demo,
            ["Storage:DataDirectory"] = Path.Combine(root, $"data-{i}"),
        }, demoModel: true)).ToArray();
        try
        {
            foreach (var server in servers)
            {
                await server.WaitReadyAsync();
            }
            var done = new List<System.Text.Json.Nodes.JsonObject>();
            foreach (var server in servers)
            {
                done.Add(await Wire.CreatedAsync(server.Client, Wire.Input(), prefer: "wait"));
            }

            Assert.All(done, d => Assert.Equal("succeeded", d.Status()));
            Assert.Single(servers, s => s.Output.Contains("Generating the demo model", StringComparison.Ordinal));
            Assert.Empty(Directory.GetDirectories(root, "demo-random-weights.partial-*"));
        }
        finally
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
            Directory.Delete(root, recursive: true);
        }
    }
}
