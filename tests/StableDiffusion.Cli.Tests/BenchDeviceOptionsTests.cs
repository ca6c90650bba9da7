using System.Text.Json;

namespace StableDiffusion.Cli.Tests;

/// <summary><c>sd bench --batch-sizes</c> and the execution-provider options the GPU check uses (tests/gpu/run.sh).</summary>
public sealed class BenchDeviceOptionsTests(TinyModelFixture tiny) : IClassFixture<TinyModelFixture>
{
    [Fact]
    public void Batch_sizes_are_measured_in_turn_after_one_load_with_bound_io()
    {
        var result = CliRunner.Run("bench", "--model", tiny.Directory, "--steps", "2", "--width", "64", "--height", "64",
            "--runs", "1", "--provider", "cpu", "--io-binding", "on", "--batch-sizes", "1,3");

        Assert.True(result.ExitCode == 0, result.StdErr);
        var lines = result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal([1, 3], lines.Select(l => l.GetProperty("images_per_run").GetInt32()));
        Assert.All(lines, l => Assert.True(l.GetProperty("io_binding").GetBoolean()));
        Assert.All(lines, l => Assert.False(l.GetProperty("device_steps").GetBoolean())); // auto: off on the CPU
        Assert.All(lines, l => Assert.False(l.GetProperty("cuda_graph").GetBoolean()));
        Assert.All(lines, l => Assert.Equal("cpu", l.GetProperty("provider").GetString()));
    }

    [Fact]
    public void Device_steps_on_runs_the_step_graphs()
    {
        var result = CliRunner.Run("bench", "--model", tiny.Directory, "--steps", "2", "--width", "64", "--height", "64",
            "--runs", "1", "--provider", "cpu", "--io-binding", "on", "--device-steps", "on");

        Assert.True(result.ExitCode == 0, result.StdErr);
        var line = JsonDocument.Parse(result.StdOut.Split('\n').First(l => l.StartsWith('{'))).RootElement;
        Assert.True(line.GetProperty("device_steps").GetBoolean());
    }

    [Theory]
    [InlineData("--device-steps", "always", "--device-steps")]
    [InlineData("--batch-sizes", "1,0", "--batch-sizes")]
    [InlineData("--batch-sizes", "two", "--batch-sizes")]
    [InlineData("--io-binding", "maybe", "--io-binding")]
    [InlineData("--cudnn-conv-algo-search", "FASTEST", "--cudnn-conv-algo-search")]
    [InlineData("--provider", "rocm", "--provider")]
    public void Bad_device_options_exit_2_naming_the_option(string option, string value, string named)
    {
        var result = CliRunner.Run("bench", "--model", tiny.Directory, "--steps", "2", "--width", "64", "--height", "64", option, value);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(named, result.StdErr, StringComparison.Ordinal);
    }
}
