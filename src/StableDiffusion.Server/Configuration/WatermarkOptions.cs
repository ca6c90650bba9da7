using System.ComponentModel.DataAnnotations;

namespace StableDiffusion.Server.Configuration;

/// <summary>The <c>Watermark</c> section: the invisible dwtDct watermark Stability's scripts apply.</summary>
internal sealed class WatermarkOptions
{
    public const string Section = "Watermark";

    public bool Enabled { get; set; } = true;

    [Required, StringLength(64, MinimumLength = 1)]
    public string Payload { get; set; } = "SDV2";
}
