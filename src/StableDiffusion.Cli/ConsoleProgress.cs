using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using StableDiffusion.Core.Pipelines;

namespace StableDiffusion.Cli;

/// <summary>
/// Progress on stderr while a command works (a full-size model on a CPU takes minutes): denoising steps with rate and
/// ETA, or bytes written. <c>--progress auto</c> (the default) shows it only when stderr is a terminal, so piped and
/// captured runs stay quiet; <c>always</c> and <c>never</c> override. On a terminal one line is redrawn in place
/// (tqdm's way); forced onto a pipe or file each update is its own line. Stdout keeps its one JSON line either way.
/// </summary>
public sealed class ConsoleProgress
{
    /// <summary>Updates closer together than this are dropped (the last step is always shown).</summary>
    private static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(100);

    private readonly TextWriter _writer;
    private readonly bool _terminal;
    private readonly long _started = Stopwatch.GetTimestamp();
    private TimeSpan _lastShown = TimeSpan.MinValue;
    private bool _lineOpen;

    public ConsoleProgress(string label, bool enabled, TextWriter writer, bool terminal)
    {
        Label = label;
        Enabled = enabled;
        _writer = writer;
        _terminal = terminal;
    }

    /// <summary>What each line starts with, e.g. <c>sd generate</c> or <c>sd bench (run 2/3)</c>.</summary>
    public string Label { get; set; }

    public bool Enabled { get; }

    /// <summary>The <c>--progress auto|always|never</c> option.</summary>
    public static Option<string> CreateOption()
    {
        var option = new Option<string>("--progress")
        {
            Description = "Progress on stderr: auto (only when stderr is a terminal), always or never",
            DefaultValueFactory = _ => "auto",
        };
        option.AcceptOnlyFromAmong("auto", "always", "never");
        return option;
    }

    /// <summary>The progress display the parsed <paramref name="option"/> asks for, on stderr.</summary>
    public static ConsoleProgress From(ParseResult parse, Option<string> option, string label)
    {
        bool terminal = !Console.IsErrorRedirected;
        bool enabled = parse.GetValue(option) switch
        {
            "always" => true,
            "never" => false,
            _ => terminal,
        };
        return new ConsoleProgress(label, enabled, Console.Error, terminal);
    }

    /// <summary>An observer that shows each denoising step and passes the pipeline's log lines to stderr.</summary>
    public GenerationObserver Observer() => new()
    {
        OnStep = Step,
        OnLog = line =>
        {
            EndLine();
            Console.Error.WriteLine($"sd: {line}");
        },
    };

    /// <summary>Shows <c>step k/n (p%), r steps/s, ETA m:ss</c>.</summary>
    public void Step(StepProgress progress)
    {
        bool last = progress.Step >= progress.TotalSteps;
        if (!Enabled || !Due(progress.Elapsed, force: last))
        {
            return;
        }

        double seconds = progress.Elapsed.TotalSeconds;
        double rate = seconds > 0 ? progress.Step / seconds : 0;
        string eta = rate > 0 ? Clock((progress.TotalSteps - progress.Step) / rate) : "?";
        int percent = progress.TotalSteps > 0 ? progress.Step * 100 / progress.TotalSteps : 100;
        Show(string.Create(CultureInfo.InvariantCulture,
            $"step {progress.Step}/{progress.TotalSteps} ({percent}%), {Rate(rate)} steps/s, ETA {eta}"));
        if (last)
        {
            EndLine();
        }
    }

    /// <summary>Shows the running total of bytes written and the write rate.</summary>
    public void Bytes(long written, bool final = false)
    {
        var elapsed = Stopwatch.GetElapsedTime(_started);
        if (!Enabled || !Due(elapsed, force: final))
        {
            return;
        }

        double seconds = elapsed.TotalSeconds;
        Show($"{Size(written)} written, {(seconds > 0 ? Size((long)(written / seconds)) : "?")}/s");
        if (final)
        {
            EndLine();
        }
    }

    private bool Due(TimeSpan elapsed, bool force)
    {
        if (!force && _lastShown != TimeSpan.MinValue && elapsed - _lastShown < MinInterval)
        {
            return false;
        }

        _lastShown = elapsed;
        return true;
    }

    private void Show(string text)
    {
        if (_terminal)
        {
            // Carriage return, the line, then "erase to end of line" (a shorter line leaves no tail of the last).
            _writer.Write($"\r{Label}: {text}\u001b[K");
            _lineOpen = true;
        }
        else
        {
            _writer.WriteLine($"{Label}: {text}");
        }

        _writer.Flush();
    }

    /// <summary>Ends a line left open on the terminal (a failed run must not print its error after the progress).</summary>
    public void EndLine()
    {
        if (_lineOpen)
        {
            _writer.WriteLine();
            _lineOpen = false;
        }

        _lastShown = TimeSpan.MinValue;
    }

    private static string Rate(double rate) => rate.ToString(rate >= 10 ? "0.0" : "0.00", CultureInfo.InvariantCulture);

    private static string Clock(double seconds)
    {
        var span = TimeSpan.FromSeconds(Math.Ceiling(Math.Min(seconds, TimeSpan.MaxValue.TotalSeconds / 2)));
        return span.TotalHours >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}:{span.Minutes:00}:{span.Seconds:00}")
            : string.Create(CultureInfo.InvariantCulture, $"{span.Minutes}:{span.Seconds:00}");
    }

    private static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.00} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.0} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 10):0.0} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
    };
}
