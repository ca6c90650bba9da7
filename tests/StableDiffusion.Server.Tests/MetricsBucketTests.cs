using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests;

public sealed class MetricsBucketTests
{
    // OpenTelemetry's default boundaries (0, 5, 10, ... 10000) are meant for milliseconds; the server's histograms
    // are in seconds, so they must carry sub-second boundaries for histogram_quantile to say anything.
    [Fact]
    public async Task Seconds_histograms_have_sub_second_buckets_up_to_the_job_deadline()
    {
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();
        await Wire.CreatedAsync(client, Wire.Input(steps: 2), prefer: "wait");

        var scrape = await client.GetStringAsync("/metrics");

        foreach (var name in new[] { "sd_job_run_time_seconds", "sd_job_queue_wait_seconds", "sd_stage_duration_seconds" })
        {
            Assert.Contains($"{name}_bucket{{", scrape);
            Assert.Matches($"(?m)^{name}_bucket{{[^}}]*le=\"0.1\"}} ", scrape);
            Assert.Matches($"(?m)^{name}_bucket{{[^}}]*le=\"600\"}} ", scrape);
        }
        Assert.Matches("(?m)^sd_denoise_steps_per_second_bucket{[^}]*le=\"0.5\"} ", scrape);
    }
}
