using StableDiffusion.Cli;
using StableDiffusion.Core.Pipelines;

namespace StableDiffusion.Cli.Tests;

/// <summary>The progress display's text, on a terminal (one line redrawn) and forced onto a pipe (a line per update).</summary>
public sealed class ConsoleProgressTests
{
    [Fact]
    public void On_a_terminal_one_line_is_redrawn_with_rate_and_eta_then_ended()
    {
        var writer = new StringWriter();
        var progress = new ConsoleProgress("sd generate", enabled: true, writer, terminal: true);

        progress.Step(new StepProgress(1, 4, TimeSpan.FromSeconds(2)));
        progress.Step(new StepProgress(4, 4, TimeSpan.FromSeconds(5)));

        Assert.Equal(
            "\rsd generate: step 1/4 (25%), 0.50 steps/s, ETA 0:06\u001b[K" +
            "\rsd generate: step 4/4 (100%), 0.80 steps/s, ETA 0:00\u001b[K" + writer.NewLine,
            writer.ToString());
    }

    [Fact]
    public void On_a_pipe_each_update_is_a_line_and_long_runs_show_hours()
    {
        var writer = new StringWriter();
        var progress = new ConsoleProgress("sd bench (run 1/3)", enabled: true, writer, terminal: false);

        progress.Step(new StepProgress(1, 50, TimeSpan.FromSeconds(90)));

        Assert.Equal($"sd bench (run 1/3): step 1/50 (2%), 0.01 steps/s, ETA 1:13:30{writer.NewLine}", writer.ToString());
    }

    [Fact]
    public void Updates_closer_than_a_tenth_of_a_second_are_dropped_but_the_last_step_is_shown()
    {
        var writer = new StringWriter();
        var progress = new ConsoleProgress("sd generate", enabled: true, writer, terminal: false);

        for (int step = 1; step <= 10; step++)
        {
            progress.Step(new StepProgress(step, 10, TimeSpan.FromMilliseconds(step * 30)));
        }

        var shown = writer.ToString().Split(writer.NewLine, StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[3]).ToArray();
        Assert.Equal(["1/10", "5/10", "9/10", "10/10"], shown);   // 30 ms, then 150, 270 (≥ 100 ms apart), and the last
    }

    [Fact]
    public void Disabled_progress_writes_nothing()
    {
        var writer = new StringWriter();
        var progress = new ConsoleProgress("sd make-model", enabled: false, writer, terminal: true);

        progress.Step(new StepProgress(3, 3, TimeSpan.FromSeconds(1)));
        progress.Bytes(1 << 20, final: true);

        Assert.Equal("", writer.ToString());
    }
}
