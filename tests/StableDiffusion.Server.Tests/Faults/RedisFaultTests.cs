using System.Net.Http.Json;
using System.Text.Json.Nodes;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests.Faults;

/// <summary>
/// Many processes on one Redis (DESIGN §9): real <c>redis-server</c> with AOF, real API and worker processes, each
/// killed for real. Heartbeats are one second, so a dead worker's claim goes stale in three.
/// </summary>
public sealed class RedisFaultTests : IAsyncLifetime
{
    private RedisServer _redis = null!;
    private readonly string _files = Directory.CreateTempSubdirectory("sd-redis-fault-").FullName;
    private readonly List<ServerProcess> _processes = [];

    public async Task InitializeAsync() => _redis = await RedisServer.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }
        await _redis.DisposeAsync();
        try
        {
            Directory.Delete(_files, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<ServerProcess> StartAsync(string role, Dictionary<string, string>? extra = null, string readyPath = "/health/ready")
    {
        var settings = new Dictionary<string, string>
        {
            ["Server:Role"] = role,
            ["Storage:Backend"] = "Redis",
            ["Storage:Redis"] = _redis.ConnectionString,
            ["Storage:HeartbeatSeconds"] = "1",
            // Replicas share the output disk and the key that signs its links.
            ["Storage:DataDirectory"] = _files,
            ["Outputs:SigningKey"] = "test-signing-key-shared-by-replicas",
            ["Webhooks:AllowPrivateTargets"] = "true",
            ["Webhooks:InitialBackoffMilliseconds"] = "10",
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }
        var process = await ServerProcess.StartAsync(settings, readyPath);
        _processes.Add(process);
        return process;
    }

    [RedisFact]
    public async Task A_worker_killed_mid_job_loses_nothing_another_worker_finishes_it_once()
    {
        await using var hook = await WebhookReceiver.StartAsync();
        var api = await StartAsync("api");
        var first = await StartAsync("worker");
        var created = await Wire.CreatedAsync(api.Client, Wire.Input(steps: 400, size: 256),
            new JsonObject { ["webhook"] = hook.Url, ["webhook_events_filter"] = new JsonArray("completed") });
        await Wire.WaitAsync(api.Client, created.Id(), p => p.Status() == "processing" && p["logs"]!.GetValue<string>().Contains("| 1/"));
        var second = await StartAsync("worker");

        first.Kill();
        var done = await Wire.WaitDoneAsync(api.Client, created.Id());
        var deliveries = await hook.UntilCompletedAsync();
        await Task.Delay(2_000); // room for a duplicate delivery to show up
        var image = await api.Client.GetAsync(new Uri(done["output"]![0]!.GetValue<string>()).PathAndQuery);

        Assert.Equal("succeeded", done.Status());
        Assert.Contains("Attempt 1 was interrupted (its worker stopped); running it again as attempt 2", done["logs"]!.GetValue<string>());
        Assert.True(image.IsSuccessStatusCode, second.Output);
        Assert.Equal("succeeded", Assert.Single(deliveries)["status"]!.GetValue<string>());
        Assert.False(hook.Deliveries.Reader.TryRead(out _));
    }

    [RedisFact]
    public async Task Redis_killed_and_restarted_keeps_queued_and_finished_predictions_and_work_resumes()
    {
        var api = await StartAsync("api");
        var worker = await StartAsync("worker");
        var finished = await Wire.CreatedAsync(api.Client, Wire.Input(), prefer: "wait");
        var running = await Wire.CreatedAsync(api.Client, Wire.Input(steps: 300, size: 256));
        await Wire.WaitAsync(api.Client, running.Id(), p => p.Status() == "processing");
        var queued = await Wire.CreatedAsync(api.Client, Wire.Input(seed: 9));

        _redis.Kill();
        await Task.Delay(500);
        await _redis.RestartAsync();
        var finishedAfter = await Wire.GetAsync(api.Client, finished.Id());
        var runningDone = await Wire.WaitDoneAsync(api.Client, running.Id());
        var queuedDone = await Wire.WaitDoneAsync(api.Client, queued.Id());

        Assert.Equal("succeeded", finishedAfter.Status());
        Assert.Equal("succeeded", runningDone.Status());
        Assert.Equal("succeeded", queuedDone.Status());
        Assert.NotNull(worker);
    }

    [RedisFact]
    public async Task Stream_and_cancel_from_another_api_replica_and_a1111_progress_anywhere()
    {
        var a = await StartAsync("api");
        var b = await StartAsync("api");
        await StartAsync("worker");
        var created = await Wire.CreatedAsync(a.Client, Wire.SlowInput());
        var stream = b.Client.GetStringAsync($"/v1/predictions/{created.Id()}/stream");
        await Wire.WaitAsync(b.Client, created.Id(), p => p.Status() == "processing" && p["logs"]!.GetValue<string>().Contains("| 2/"));

        var canceled = await (await b.Client.PostAsync($"/v1/predictions/{created.Id()}/cancel", null)).Content.ReadFromJsonAsync<JsonObject>();
        var streamText = await stream;
        var onA = await Wire.WaitDoneAsync(a.Client, created.Id());

        Assert.Equal("canceled", onA.Status());
        Assert.Contains("event: logs", streamText);
        Assert.Contains("| 1/999", streamText);
        Assert.Contains("""{"reason":"canceled"}""", streamText);
        Assert.NotNull(canceled);

        // A1111 progress on B for a call made on B and run by the worker.
        var call = b.Client.PostAsJsonAsync("/sdapi/v1/txt2img", new { prompt = "slow", steps = 999, width = 256, height = 256, seed = 3 });
        JsonObject? progress = null;
        var until = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < until)
        {
            progress = await b.Client.GetFromJsonAsync<JsonObject>("/sdapi/v1/progress");
            if (progress!["state"]!["sampling_step"]!.GetValue<int>() > 0)
            {
                break;
            }
            await Task.Delay(100);
        }
        await b.Client.PostAsync("/sdapi/v1/interrupt", null);
        var answer = await call;

        Assert.True(progress!["state"]!["sampling_step"]!.GetValue<int>() > 0, progress.ToJsonString());
        Assert.Equal(999, progress["state"]!["sampling_steps"]!.GetValue<int>());
        Assert.True(answer.IsSuccessStatusCode);
    }

    [RedisFact]
    public async Task A_job_that_always_throws_fails_after_max_attempts_with_its_error()
    {
        var broken = new Dictionary<string, string>
        {
            ["Storage:MaxAttempts"] = "3",
            ["Models:Items:1:Name"] = "broken",
            ["Models:Items:1:Owner"] = "test",
            ["Models:Items:1:Path"] = Path.Combine(_files, "no-such-model"),
        };
        var api = await StartAsync("api", broken);
        // Not ready (a model failed to load), but it runs jobs for the models it has.
        var worker = await StartAsync("worker", broken, readyPath: "/health/live");

        var created = await Wire.CreatedAsync(api.Client, Wire.Input(), new JsonObject { ["version"] = "broken" });
        var failed = await Wire.WaitDoneAsync(api.Client, created.Id());

        Assert.Equal("failed", failed.Status());
        Assert.Contains("not loaded", failed["error"]!.GetValue<string>());
        Assert.Contains("on each of 3 attempts", failed["error"]!.GetValue<string>());
        Assert.Contains("Attempt 2 failed", failed["logs"]!.GetValue<string>());
        Assert.NotNull(worker);
    }
}
