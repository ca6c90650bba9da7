using System.Text.Json.Nodes;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests;

/// <summary>Dynamic batching in the worker (embedded backend): compatible queued jobs share one UNet batch, each with
/// its own lifecycle and its solo output; incompatible ones run alone.</summary>
public sealed class BatchingTests
{
    private static ServerFactory Factory() => new(new() { ["Worker:MaxBatchImages"] = "4", ["Worker:BatchWindowMs"] = "0" });

    /// <summary>Queues <paramref name="inputs"/> behind a slow running job, then cancels it: the worker then finds them
    /// all queued at once (no timing involved).</summary>
    internal static async Task<JsonObject[]> QueuedBehindBlockerAsync(HttpClient client, params JsonObject[] inputs)
    {
        var queued = await QueueBehindBlockerAsync(client, inputs);
        var done = new List<JsonObject>();
        foreach (var job in queued)
        {
            done.Add(await Wire.WaitDoneAsync(client, job.Id()));
        }
        return [.. done];
    }

    /// <summary>As <see cref="QueuedBehindBlockerAsync"/>, without waiting for the jobs.</summary>
    private static async Task<List<JsonObject>> QueueBehindBlockerAsync(HttpClient client, params JsonObject[] inputs)
    {
        var blocker = await Wire.RunningSlowJobAsync(client);
        var queued = new List<JsonObject>();
        foreach (var input in inputs)
        {
            queued.Add(await Wire.CreatedAsync(client, input));
        }
        await client.PostAsync($"/v1/predictions/{blocker.Id()}/cancel", null);
        return queued;
    }

    [Fact]
    public async Task Four_compatible_queued_jobs_run_as_one_batch_with_their_solo_outputs()
    {
        await using var factory = Factory();
        var client = await factory.ReadyClientAsync();
        JsonObject[] inputs = [Wire.Input(seed: 1), Wire.Input(seed: 2, prompt: "a lighthouse"), Wire.Input(seed: 3), Wire.Input(seed: 4, prompt: "a boat")];
        inputs[1]["guidance_scale"] = 3.0;

        var done = await QueuedBehindBlockerAsync(client, inputs);

        for (int i = 0; i < done.Length; i++)
        {
            Assert.Equal("succeeded", done[i].Status());
            Assert.Contains("Batched with 3 other job(s): 4 images per UNet call", done[i]["logs"]!.GetValue<string>());
            var solo = await Wire.CreatedAsync(client, inputs[i].DeepClone().AsObject(), prefer: "wait");
            Assert.DoesNotContain("Batched with", solo["logs"]!.GetValue<string>());
            Assert.Equal(await client.GetByteArrayAsync(solo["output"]![0]!.GetValue<string>()),
                await client.GetByteArrayAsync(done[i]["output"]![0]!.GetValue<string>()));
        }
        var scrape = await client.GetStringAsync("/metrics");
        // Runs so far: the blocker (1 job), the batch (4 jobs), four solo runs: one run in the le="4" bucket only.
        Assert.Matches("(?m)^sd_worker_batch_jobs_bucket\\{[^}]*le=\"3\"\\} 5$", scrape);
        Assert.Matches("(?m)^sd_worker_batch_jobs_bucket\\{[^}]*le=\"4\"\\} 6$", scrape);
    }

    [Fact]
    public async Task A_job_canceled_mid_batch_stops_and_the_others_succeed()
    {
        await using var factory = Factory();
        var client = await factory.ReadyClientAsync();
        var queued = await QueueBehindBlockerAsync(client, Wire.Input(steps: 300, seed: 1), Wire.Input(steps: 300, seed: 2), Wire.Input(steps: 300, seed: 3));

        await Wire.WaitRunningAsync(client, queued[1].Id());
        await client.PostAsync($"/v1/predictions/{queued[1].Id()}/cancel", null);
        var done = new List<JsonObject>();
        foreach (var job in queued)
        {
            done.Add(await Wire.WaitDoneAsync(client, job.Id()));
        }

        Assert.Equal(["succeeded", "canceled", "succeeded"], done.Select(j => j.Status()));
        Assert.All(done, job => Assert.Contains("Batched with 2 other job(s): 3 images per UNet call", job["logs"]!.GetValue<string>()));
        Assert.Contains("| 300/300", done[0]["logs"]!.GetValue<string>());
        Assert.DoesNotContain("| 300/300", done[1]["logs"]!.GetValue<string>());
    }

    [Fact]
    public async Task Image_to_image_jobs_at_one_strength_batch_and_keep_their_solo_outputs()
    {
        await using var factory = Factory();
        var client = await factory.ReadyClientAsync();
        JsonObject Img2Img(long seed, byte[] png, double strength)
        {
            var input = Wire.Input(steps: 4, seed: seed);
            input["image"] = TestImages.DataUri(png);
            input["prompt_strength"] = strength;
            return input;
        }
        JsonObject[] inputs = [Img2Img(1, TestImages.Png(64, 64, 40), 0.6), Img2Img(2, TestImages.NoisePng(64, 64), 0.6), Img2Img(3, TestImages.Png(64, 64, 200), 0.5)];

        var done = await QueuedBehindBlockerAsync(client, inputs);

        // The first two share a strength, the third starts at another call: it runs alone.
        Assert.Contains("Batched with 1 other job(s): 2 images per UNet call", done[0]["logs"]!.GetValue<string>());
        Assert.Contains("Batched with 1 other job(s): 2 images per UNet call", done[1]["logs"]!.GetValue<string>());
        Assert.DoesNotContain("Batched with", done[2]["logs"]!.GetValue<string>());
        for (int i = 0; i < 2; i++)
        {
            var solo = await Wire.CreatedAsync(client, inputs[i].DeepClone().AsObject(), prefer: "wait");
            Assert.Equal(await client.GetByteArrayAsync(solo["output"]![0]!.GetValue<string>()),
                await client.GetByteArrayAsync(done[i]["output"]![0]!.GetValue<string>()));
        }
    }

    [Fact]
    public async Task Incompatible_queued_jobs_run_alone()
    {
        await using var factory = Factory();
        var client = await factory.ReadyClientAsync();

        var done = await QueuedBehindBlockerAsync(client, Wire.Input(steps: 2), Wire.Input(steps: 3), Wire.Input(size: 72), Wire.Input(steps: 2));

        Assert.All(done, job =>
        {
            Assert.Equal("succeeded", job.Status());
            Assert.DoesNotContain("Batched with", job["logs"]!.GetValue<string>());
        });
    }

    [Fact]
    public async Task Batches_stop_at_max_batch_images_and_keep_queue_order()
    {
        await using var factory = Factory();
        var client = await factory.ReadyClientAsync();
        var three = Wire.Input(seed: 5);
        three["num_outputs"] = 3;

        // 3 + 1 images fill the first batch; the next two compatible jobs make a second one.
        var done = await QueuedBehindBlockerAsync(client, three, Wire.Input(seed: 6), Wire.Input(seed: 7), Wire.Input(seed: 8));

        Assert.Contains("Batched with 1 other job(s): 4 images per UNet call", done[0]["logs"]!.GetValue<string>());
        Assert.Contains("Batched with 1 other job(s): 4 images per UNet call", done[1]["logs"]!.GetValue<string>());
        Assert.Contains("Batched with 1 other job(s): 2 images per UNet call", done[2]["logs"]!.GetValue<string>());
        Assert.Contains("Batched with 1 other job(s): 2 images per UNet call", done[3]["logs"]!.GetValue<string>());
        Assert.Equal(3, done[0]["output"]!.AsArray().Count);
    }

    [Fact]
    public async Task Batching_is_off_on_the_cpu_by_default()
    {
        await using var factory = new ServerFactory(new() { ["Worker:BatchWindowMs"] = "0" });
        var client = await factory.ReadyClientAsync();

        var done = await QueuedBehindBlockerAsync(client, Wire.Input(seed: 1), Wire.Input(seed: 2));

        Assert.All(done, job => Assert.DoesNotContain("Batched with", job["logs"]!.GetValue<string>()));
    }
}
