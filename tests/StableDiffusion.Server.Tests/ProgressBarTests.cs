using StableDiffusion.Server.Jobs;

namespace StableDiffusion.Server.Tests;

public sealed class ProgressBarTests
{
    // Expected strings are what tqdm 4.66 prints for the same n/total (bar width 10, Bar.UTF eighths).
    [Theory]
    [InlineData(0, 20, "  0%|          | 0/20")]
    [InlineData(9, 20, " 45%|████▌     | 9/20")]
    [InlineData(1, 50, "  2%|▏         | 1/50")]
    [InlineData(20, 20, "100%|██████████| 20/20")]
    public void Matches_tqdm_bar(int step, int total, string expected)
        => Assert.StartsWith(expected + " [", ProgressBar.Format(step, total, TimeSpan.FromSeconds(1)));

    [Fact]
    public void Replicate_client_progress_pattern_reads_it_back()
    {
        // replicate-javascript's parseProgressFromLogs: /^\s*(\d+)%\s*\|.+?\|\s*(\d+)\/(\d+)/
        var line = ProgressBar.Format(9, 20, TimeSpan.FromSeconds(1));

        var match = System.Text.RegularExpressions.Regex.Match(line, @"^\s*(\d+)%\s*\|.+?\|\s*(\d+)\/(\d+)");

        Assert.Equal(["45", "9", "20"], [match.Groups[1].Value, match.Groups[2].Value, match.Groups[3].Value]);
    }
}
