using Microsoft.Extensions.Logging;

namespace StableDiffusion.Cli;

/// <summary>Log lines of Core go to stderr, so stdout stays one JSON line.</summary>
public static class ConsoleLogging
{
    public static ILoggerFactory Create(bool verbose) => LoggerFactory.Create(builder => builder
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
        .AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        })
        .SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Information));
}
