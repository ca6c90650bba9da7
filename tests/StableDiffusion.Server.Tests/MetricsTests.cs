using System.Globalization;
using System.Text.RegularExpressions;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests;

public sealed class MetricsTests : IAsyncLifetime
{
    private readonly ServerFactory _factory = new(new() { ["Queue:Capacity"] = "5" });
    private HttpClient _client = null!;

    public async Task InitializeAsync() => _client = await _factory.ReadyClientAsync();

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    private static double Value(string scrape, string series)
    {
        var match = Regex.Match(scrape, "^" + Regex.Escape(series) + @"(\{[^}]*\})? ([0-9.eE+-]+)", RegexOptions.Multiline);
        return match.Success ? double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture) : 0;
    }

    [Fact]
    public async Task Prometheus_scrape_has_the_job_metrics_and_they_move()
    {
        await Wire.CreatedAsync(_client, Wire.Input(steps: 3), prefer: "wait");
        var before = await _client.GetStringAsync("/metrics");

        await Wire.CreatedAsync(_client, Wire.Input(steps: 3), prefer: "wait");
        var after = await _client.GetStringAsync("/metrics");

        foreach (var name in new[]
        {
            "sd_queue_depth", "sd_queue_capacity", "sd_jobs_finished_total", "sd_job_queue_wait_seconds_bucket",
            "sd_job_run_time_seconds_bucket", "sd_denoise_steps_per_second_bucket", "sd_images_generated_total",
            "sd_stage_duration_seconds_bucket", "sd_onnxruntime_session_time_seconds_bucket", "sd_denoise_steps_total",
        })
        {
            Assert.Contains(name, after);
        }
        Assert.Equal(5, Value(after, "sd_queue_capacity"));
        Assert.Equal(Value(before, "sd_images_generated_total") + 1, Value(after, "sd_images_generated_total"));
        Assert.Equal(Value(before, "sd_denoise_steps_total") + 3, Value(after, "sd_denoise_steps_total"));
        Assert.Equal(Value(before, "sd_job_run_time_seconds_count") + 1, Value(after, "sd_job_run_time_seconds_count"));
        Assert.Contains("status=\"succeeded\"", after);
        Assert.Contains("stage=\"denoise\"", after);
        Assert.Contains("component=\"unet\"", after);
    }

    [Fact]
    public async Task A_repeated_prompt_is_a_prompt_cache_hit()
    {
        await Wire.CreatedAsync(_client, Wire.Input(seed: 1), prefer: "wait");
        var before = await _client.GetStringAsync("/metrics");

        await Wire.CreatedAsync(_client, Wire.Input(seed: 2), prefer: "wait");
        var after = await _client.GetStringAsync("/metrics");

        // The prompt and the (empty) negative prompt of the second job both come from the cache.
        Assert.Equal(Value(before, "sd_prompt_cache_hits_total") + 2, Value(after, "sd_prompt_cache_hits_total"));
        Assert.Equal(Value(before, "sd_prompt_cache_misses_total"), Value(after, "sd_prompt_cache_misses_total"));
        Assert.Equal(2, Value(before, "sd_prompt_cache_misses_total"));
    }
}
