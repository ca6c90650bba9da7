using System.Globalization;

namespace StableDiffusion.Server.Jobs;

/// <summary>
/// tqdm's default progress line (<c>{l_bar}{bar}{r_bar}</c>, bar width 10), which Replicate models print into their
/// logs and which the <c>replicate</c> client's <c>parseProgressFromLogs</c> reads back.
/// </summary>
internal static class ProgressBar
{
    // tqdm's Bar.UTF: a space, then eighths of a block.
    private const string Eighths = " ▏▎▍▌▋▊▉█";
    private const int Width = 10;

    public static string Format(int step, int total, TimeSpan elapsed)
    {
        var fraction = total <= 0 ? 1.0 : Math.Clamp((double)step / total, 0, 1);
        var eighths = (int)(fraction * Width * 8);
        var full = eighths / 8;
        var bar = new string('█', full);
        if (full < Width)
        {
            var partial = eighths % 8;
            bar += (partial > 0 ? Eighths[partial].ToString() : "") ;
            bar = bar.PadRight(Width);
        }
        var rate = elapsed.TotalSeconds > 0 ? step / elapsed.TotalSeconds : 0;
        var remaining = rate > 0 ? TimeSpan.FromSeconds((total - step) / rate) : TimeSpan.Zero;
        var percent = (fraction * 100).ToString("0", CultureInfo.InvariantCulture).PadLeft(3);
        var rateText = rate > 0 ? rate.ToString("0.00", CultureInfo.InvariantCulture) + "it/s" : "?it/s";
        return $"{percent}%|{bar}| {step}/{total} [{Clock(elapsed)}<{Clock(remaining)}, {rateText}]";
    }

    private static string Clock(TimeSpan t) => t.TotalHours >= 1
        ? $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}"
        : $"{t.Minutes:00}:{t.Seconds:00}";
}
