using System.Net;
using System.Text.Json.Nodes;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests;

public sealed class QueueTests
{
    [Fact]
    public async Task Full_queue_answers_429_with_retry_after_and_creates_no_job()
    {
        await using var factory = new ServerFactory(new() { ["Queue:Capacity"] = "1", ["Queue:RetryAfterSeconds"] = "7" });
        var client = await factory.ReadyClientAsync();
        var running = await Wire.RunningSlowJobAsync(client);
        var queued = await Wire.CreatedAsync(client, Wire.Input());

        var rejected = await Wire.CreateAsync(client, Wire.Input());

        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), rejected.Headers.RetryAfter!.Delta);
        var problem = await Wire.ProblemAsync(rejected);
        Assert.Equal("Queue full", problem["title"]!.GetValue<string>());
        var page = JsonNode.Parse(await client.GetStringAsync("/v1/predictions"))!;
        Assert.Equal([queued.Id(), running.Id()], page["results"]!.AsArray().Select(p => p!["id"]!.GetValue<string>()).ToArray());
        await client.PostAsync($"/v1/predictions/{running.Id()}/cancel", null);
    }

    [Fact]
    public async Task Canceling_a_queued_job_frees_its_queue_slot_at_once()
    {
        await using var factory = new ServerFactory(new() { ["Queue:Capacity"] = "1" });
        var client = await factory.ReadyClientAsync();
        var running = await Wire.RunningSlowJobAsync(client);
        var queued = await Wire.CreatedAsync(client, Wire.Input());
        Assert.Equal(HttpStatusCode.TooManyRequests, (await Wire.CreateAsync(client, Wire.Input())).StatusCode);

        await client.PostAsync($"/v1/predictions/{queued.Id()}/cancel", null);
        var next = await Wire.CreateAsync(client, Wire.Input());

        Assert.Equal(HttpStatusCode.Created, next.StatusCode);
        var metrics = await client.GetStringAsync("/metrics");
        var depth = System.Text.RegularExpressions.Regex.Match(metrics, @"^sd_queue_depth(\{[^}]*\})? (\d+)", System.Text.RegularExpressions.RegexOptions.Multiline);
        Assert.Equal("1", depth.Groups[2].Value);
        await client.PostAsync($"/v1/predictions/{running.Id()}/cancel", null);
    }

    [Fact]
    public async Task Cancel_of_a_queued_job_is_immediate_and_it_never_runs()
    {
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();
        var running = await Wire.RunningSlowJobAsync(client);
        var queued = await Wire.CreatedAsync(client, Wire.Input());

        var response = await client.PostAsync($"/v1/predictions/{queued.Id()}/cancel", null);
        var canceled = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

        Assert.Equal("canceled", canceled.Status());
        Assert.Null(canceled["started_at"]);
        Assert.NotNull(canceled["completed_at"]);
        await client.PostAsync($"/v1/predictions/{running.Id()}/cancel", null);
        await Wire.WaitDoneAsync(client, running.Id());
        var after = await Wire.GetAsync(client, queued.Id());
        Assert.Equal("canceled", after.Status());
        Assert.Equal("", after["logs"]!.GetValue<string>());
    }

    [Fact]
    public async Task Cancel_of_a_running_job_stops_it_before_its_last_step()
    {
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();
        var running = await Wire.RunningSlowJobAsync(client);

        await client.PostAsync($"/v1/predictions/{running.Id()}/cancel", null);
        var done = await Wire.WaitDoneAsync(client, running.Id());

        Assert.Equal("canceled", done.Status());
        Assert.Null(done["output"]);
        Assert.DoesNotContain("999/999", done["logs"]!.GetValue<string>());
    }

    [Fact]
    public async Task Worker_runs_the_next_job_after_a_cancel()
    {
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();
        var running = await Wire.RunningSlowJobAsync(client);
        await client.PostAsync($"/v1/predictions/{running.Id()}/cancel", null);

        var next = await Wire.CreatedAsync(client, Wire.Input(), prefer: "wait");

        Assert.Equal("succeeded", next.Status());
    }

    [Fact]
    public async Task Job_queued_past_its_deadline_fails_with_a_clear_error()
    {
        var time = new ShiftedTime();
        await using var factory = new ServerFactory(new() { ["Queue:JobDeadlineSeconds"] = "60" }) { Time = time };
        var client = await factory.ReadyClientAsync();
        var running = await Wire.RunningSlowJobAsync(client);
        var queued = await Wire.CreatedAsync(client, Wire.Input());

        time.Advance(TimeSpan.FromMinutes(5));
        await client.PostAsync($"/v1/predictions/{running.Id()}/cancel", null);
        var expired = await Wire.WaitDoneAsync(client, queued.Id());

        Assert.Equal("failed", expired.Status());
        Assert.Contains("deadline (60 s)", expired["error"]!.GetValue<string>());
        Assert.Null(expired["started_at"]);
    }

    [Fact]
    public async Task Overdue_queued_job_fails_without_waiting_for_the_busy_worker()
    {
        var time = new ShiftedTime();
        await using var factory = new ServerFactory(new() { ["Queue:JobDeadlineSeconds"] = "60" }) { Time = time };
        var client = await factory.ReadyClientAsync();
        var running = await Wire.RunningSlowJobAsync(client);
        var queued = await Wire.CreatedAsync(client, Wire.Input());

        time.Advance(TimeSpan.FromMinutes(5));
        var expired = factory.Service<JobDispatcher>().ExpireOverdue();
        var after = await Wire.GetAsync(client, queued.Id());

        Assert.Equal(1, expired);
        Assert.Equal("failed", after.Status());
        Assert.Contains("deadline", after["error"]!.GetValue<string>());
        Assert.Equal("processing", (await Wire.GetAsync(client, running.Id())).Status());
        await client.PostAsync($"/v1/predictions/{running.Id()}/cancel", null);
    }

    [Fact]
    public async Task A_failing_job_fails_alone_and_the_worker_serves_the_next()
    {
        var broken = TinyModel.TempFolder("broken");
        Directory.CreateDirectory(broken); // no model_index.json: loading fails, so every job for it fails
        await using var factory = new ServerFactory(new()
        {
            ["Models:Items:1:Name"] = "broken",
            ["Models:Items:1:Path"] = broken,
        });
        var client = await factory.ReadyClientAsync();

        var failed = await Wire.CreatedAsync(client, Wire.Input(), new JsonObject { ["version"] = "broken" }, prefer: "wait");
        var next = await Wire.CreatedAsync(client, Wire.Input(), new JsonObject { ["version"] = "tiny" }, prefer: "wait");

        Assert.Equal("failed", failed.Status());
        Assert.Contains("not loaded", failed["error"]!.GetValue<string>());
        Assert.Equal("succeeded", next.Status());
    }

    [Fact]
    public async Task Shutdown_hands_the_running_job_back_after_the_grace_and_a_restart_runs_everything()
    {
        var factory = new ServerFactory(new() { ["Queue:ShutdownGraceSeconds"] = "0" }) { KeepData = true };
        var client = await factory.ReadyClientAsync();
        var running = await Wire.RunningSlowJobAsync(client);
        var queued = await Wire.CreatedAsync(client, Wire.Input());

        await factory.DisposeAsync();
        // The same data directory again: a restart. The slow job is made quick by nothing: cancel it once it re-ran.
        await using var restarted = new ServerFactory(new() { ["Queue:ShutdownGraceSeconds"] = "0" }, dataDirectory: factory.DataDirectory);
        var again = await restarted.ReadyClientAsync();
        var rerun = await Wire.WaitAsync(again, running.Id(), p => p.Status() == "processing");
        await again.PostAsync($"/v1/predictions/{running.Id()}/cancel", null);
        var queuedDone = await Wire.WaitDoneAsync(again, queued.Id());
        var runningDone = await Wire.WaitDoneAsync(again, running.Id());

        // Nothing was failed by the shutdown: the queued job stayed queued, the running one was queued again.
        Assert.Equal("succeeded", queuedDone.Status());
        Assert.Contains("The server stopped during attempt 1", rerun["logs"]!.GetValue<string>());
        Assert.Contains("runs as attempt 2", rerun["logs"]!.GetValue<string>());
        Assert.Equal("canceled", runningDone.Status());
        Directory.Delete(factory.DataDirectory, recursive: true);
    }

    [Fact]
    public async Task Shutdown_lets_the_running_job_finish_within_the_grace()
    {
        var factory = new ServerFactory(new() { ["Queue:ShutdownGraceSeconds"] = "120" }) { KeepData = true };
        var client = await factory.ReadyClientAsync();
        var store = factory.Service<JobStore>();
        var running = await Wire.CreatedAsync(client, Wire.Input(steps: 40, size: 128));
        await Wire.WaitAsync(client, running.Id(), p => p.Status() != "starting");

        await factory.DisposeAsync();

        Assert.Equal(JobStatus.Succeeded, (await store.FindAsync(running.Id()))!.Status);
        Directory.Delete(factory.DataDirectory, recursive: true);
    }
}
