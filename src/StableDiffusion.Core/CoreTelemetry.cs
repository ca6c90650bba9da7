using System.Diagnostics;

namespace StableDiffusion.Core;

/// <summary>The activity source of Core's stage spans (a host subscribes with OpenTelemetry's AddSource).</summary>
public static class CoreTelemetry
{
    public const string SourceName = "StableDiffusion.Core";

    public static readonly ActivitySource ActivitySource = new(SourceName);
}
