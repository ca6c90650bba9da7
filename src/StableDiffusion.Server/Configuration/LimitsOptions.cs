using System.ComponentModel.DataAnnotations;

namespace StableDiffusion.Server.Configuration;

/// <summary>The <c>Limits</c> section: what one request may ask for (safe defaults for a single GPU).</summary>
internal sealed class LimitsOptions
{
    public const string Section = "Limits";

    [Range(64, 8_192)] public int MaxWidth { get; set; } = 1_024;
    [Range(64, 8_192)] public int MaxHeight { get; set; } = 1_024;
    /// <summary>Width × height; bounds the latent and VAE memory.</summary>
    [Range(4_096, 67_108_864)] public int MaxPixels { get; set; } = 1_048_576;
    [Range(1, 999)] public int MaxSteps { get; set; } = 150;
    [Range(1, 64)] public int MaxOutputs { get; set; } = 4;
    /// <summary>Characters; the tokenizer truncates at 77 tokens anyway, this bounds the work before it.</summary>
    [Range(1, 100_000)] public int MaxPromptLength { get; set; } = 2_000;
    /// <summary>Request body; raised to fit one <see cref="MaxImageBytes"/> image as base64 when set lower (see <see cref="BodyLimit"/>).</summary>
    [Range(1_024, 1_073_741_824)] public long MaxBodyBytes { get; set; } = 32 * 1024 * 1024;
    /// <summary>Encoded size of one input image (after base64 decoding) or upload; more is a 413.</summary>
    [Range(1_024, 1_073_741_824)] public long MaxImageBytes { get; set; } = 20 * 1024 * 1024;
    /// <summary>Decoded input image pixels, checked from the header before decoding.</summary>
    [Range(4_096, 268_435_456)] public int MaxImagePixels { get; set; } = 4_194_304;
    /// <summary>The body limit actually enforced: a request carrying one maximum-size image as a base64 data URI must
    /// get through to the image check, which answers 413 naming the field.</summary>
    public long BodyLimit => Math.Max(MaxBodyBytes, (MaxImageBytes + 2) / 3 * 4 + 64 * 1024);

    /// <summary>Core's image limits from these options.</summary>
    public Core.Imaging.ImageLimits ImageLimits => new() { MaxBytes = MaxImageBytes, MaxPixels = MaxImagePixels };

    /// <summary>Largest page of <c>GET /v1/predictions</c>.</summary>
    [Range(1, 1_000)] public int MaxPageSize { get; set; } = 100;
    /// <summary>Longest <c>Prefer: wait</c> hold, in seconds (Replicate's maximum).</summary>
    [Range(1, 60)] public int MaxWaitSeconds { get; set; } = 60;
}
