using System.Text.Json;
using System.Text.RegularExpressions;
using SixLabors.ImageSharp.Formats.Png;

namespace StableDiffusion.Cli.Tests;

/// <summary><c>--progress</c>: step and byte progress on stderr (forced here: the tests' stderr is a pipe, which is
/// exactly the case <c>auto</c> keeps quiet), and the steps count the JSON line reports.</summary>
public sealed partial class ProgressCliTests(TinyModelFixture tiny) : IClassFixture<TinyModelFixture>
{
    [GeneratedRegex(@"^(?<label>sd [^:]+): step (?<step>\d+)/(?<total>\d+) \((?<percent>\d+)%\), \d+\.\d+ steps/s, ETA (\d+:)?\d+:\d\d$")]
    private static partial Regex StepLine();

    [GeneratedRegex(@"^sd make-model: (?<size>[\d.]+) (?<unit>B|KiB|MiB|GiB) written, .+/s$")]
    private static partial Regex BytesLine();

    [Fact]
    public void Generate_shows_each_shown_step_with_rate_and_eta_ending_at_the_steps_asked_for()
    {
        var result = CliRunner.Run("generate", "--model", tiny.Directory, "--prompt", "a red fox", "--steps", "30", "--scheduler", "PNDM",
            "--width", "64", "--height", "64", "--seed", "1", "--progress", "always", "--out", CliRunner.TempDir());

        Assert.True(result.ExitCode == 0, result.StdErr);
        var steps = Steps(result.StdErr, "sd generate");
        Assert.NotEmpty(steps);
        Assert.Equal((30, 30, 100), steps[^1]);
        Assert.All(steps, s => Assert.Equal(30, s.Total));
        Assert.Equal(steps.Select(s => s.Step).Order(), steps.Select(s => s.Step));   // increasing
        Assert.Equal(steps.Count, steps.Select(s => s.Step).Distinct().Count());
        Assert.All(steps, s => Assert.Equal(s.Step * 100 / 30, s.Percent));
    }

    [Fact]
    public void Generate_json_reports_the_steps_asked_for_not_pndm_unet_calls()
    {
        var result = CliRunner.Run("generate", "--model", tiny.Directory, "--prompt", "a red fox", "--steps", "30", "--scheduler", "PNDM",
            "--width", "64", "--height", "64", "--seed", "1", "--out", CliRunner.TempDir());

        Assert.True(result.ExitCode == 0, result.StdErr);
        using var json = JsonDocument.Parse(result.StdOut.Trim());
        Assert.Equal(30, json.RootElement.GetProperty("steps").GetInt32());
        Assert.Equal(31, json.RootElement.GetProperty("unet_calls").GetInt32());   // diffusers' PNDM: 30 steps, 31 UNet calls
    }

    [Theory]
    [InlineData("auto")]
    [InlineData("never")]
    public void Generate_is_quiet_when_stderr_is_piped_or_progress_is_never(string mode)
    {
        var result = CliRunner.Run("generate", "--model", tiny.Directory, "--prompt", "a red fox", "--steps", "4",
            "--width", "64", "--height", "64", "--seed", "1", "--progress", mode, "--out", CliRunner.TempDir());

        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.DoesNotContain("step ", result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain('\r', result.StdErr);
    }

    [Fact]
    public void Img2img_progress_counts_the_steps_its_strength_keeps()
    {
        string dir = CliRunner.TempDir();
        string input = ImageTaskCliTests.WriteImage(dir, "in.png", 64, 64, new PngEncoder());

        var result = CliRunner.Run("img2img", "--model", tiny.Directory, "--image", input, "--prompt", "a lighthouse", "--steps", "20",
            "--prompt-strength", "0.5", "--seed", "3", "--progress", "always", "--out", Path.Combine(dir, "out"));

        Assert.True(result.ExitCode == 0, result.StdErr);
        var steps = Steps(result.StdErr, "sd img2img");
        Assert.Equal((10, 10, 100), steps[^1]);   // 20 steps at strength 0.5: diffusers' get_timesteps keeps 10
    }

    [Fact]
    public void Bench_labels_progress_by_run()
    {
        var result = CliRunner.Run("bench", "--model", tiny.Directory, "--steps", "3", "--scheduler", "DDIM", "--width", "64", "--height", "64",
            "--runs", "2", "--progress", "always");

        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Equal((3, 3, 100), Steps(result.StdErr, "sd bench (warm-up)")[^1]);
        Assert.Equal((3, 3, 100), Steps(result.StdErr, "sd bench (run 1/2)")[^1]);
        Assert.Equal((3, 3, 100), Steps(result.StdErr, "sd bench (run 2/2)")[^1]);
    }

    [Fact]
    public void Make_model_shows_bytes_written_ending_at_the_model_files_size()
    {
        string dir = Path.Combine(CliRunner.TempDir(), "tiny");

        var result = CliRunner.Run("make-model", "--preset", "tiny", "--out", dir, "--progress", "always");

        Assert.True(result.ExitCode == 0, result.StdErr);
        var lines = result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => BytesLine().Match(l)).Where(m => m.Success).ToList();
        Assert.NotEmpty(lines);
        long onnxBytes = Directory.EnumerateFiles(dir, "model.onnx*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        var last = lines[^1];
        Assert.Equal("MiB", last.Groups["unit"].Value);
        Assert.Equal(Math.Round(onnxBytes / 1048576.0, 1), double.Parse(last.Groups["size"].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Make_model_is_quiet_when_stderr_is_piped()
    {
        var result = CliRunner.Run("make-model", "--preset", "tiny", "--out", Path.Combine(CliRunner.TempDir(), "tiny"));

        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Equal("", result.StdErr);
    }

    [Fact]
    public void Unknown_progress_mode_exits_2()
    {
        var result = CliRunner.Run("generate", "--model", tiny.Directory, "--progress", "sometimes", "--out", CliRunner.TempDir());

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("sometimes", result.StdErr, StringComparison.Ordinal);
    }

    private static List<(int Step, int Total, int Percent)> Steps(string stderr, string label) =>
        [.. stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => StepLine().Match(line))
            .Where(m => m.Success && m.Groups["label"].Value == label)
            .Select(m => (int.Parse(m.Groups["step"].Value), int.Parse(m.Groups["total"].Value), int.Parse(m.Groups["percent"].Value)))];
}
