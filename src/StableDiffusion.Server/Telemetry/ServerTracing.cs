using System.Diagnostics;

namespace StableDiffusion.Server.Telemetry;

/// <summary>
/// The server's trace source: one <c>job</c> span per job. Core's own spans (<c>generate</c> and one per stage:
/// text_encoder, denoise, vae_decode, ...) nest under it because the job span is current while Core runs.
/// </summary>
internal static class ServerTracing
{
    public const string SourceName = "StableDiffusion.Server";

    public static readonly ActivitySource Source = new(SourceName);
}
