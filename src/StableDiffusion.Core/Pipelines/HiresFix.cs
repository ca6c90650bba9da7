namespace StableDiffusion.Core.Pipelines;

/// <summary>
/// AUTOMATIC1111's hires fix (modules/processing.py <c>StableDiffusionProcessingTxt2Img.sample_hr_pass</c>): text to
/// image at the request's size, the result upscaled to <see cref="Width"/>×<see cref="Height"/> (in latent space, or
/// decoded, resized and encoded again), then an img2img pass over it with <see cref="DenoisingStrength"/>.
/// </summary>
/// <param name="Width">Final width (multiple of the latent factor).</param>
/// <param name="Height">Final height.</param>
/// <param name="Upscaler">How the first pass is brought to the final size.</param>
/// <param name="UpscalerName">The A1111 name the request gave ("Latent", "None", "Lanczos", …), for the infotext.</param>
/// <param name="DenoisingStrength">img2img strength of the second pass in [0, 1].</param>
/// <param name="Steps">Steps of the second pass; 0 = the first pass's (A1111's <c>hr_second_pass_steps</c> 0).</param>
/// <param name="Scale">The <c>hr_scale</c> the size came from ("Hires upscale: 2"); null when the size was given
/// (<c>hr_resize_x/y</c>: "Hires resize: 1024x1024").</param>
public sealed record HiresFix(int Width, int Height, HiresUpscaler Upscaler, string UpscalerName, double DenoisingStrength, int Steps, double? Scale)
{
    /// <summary><see cref="HiresUpscaler.Model"/>: the served upscaler model the caller runs (its name; stored with the job).</summary>
    public string? UpscalerModel { get; init; }

    /// <summary><see cref="HiresUpscaler.Model"/>: upscales a decoded first-pass image (by the model's own factor); the
    /// result is then resized to <see cref="Width"/>×<see cref="Height"/> with Lanczos, as A1111 does after an upscaler
    /// model. Attached by whoever holds that model's pipeline, at run time (not stored).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Func<Imaging.RgbImage, CancellationToken, Imaging.RgbImage>? ImageUpscaler { get; init; }
}

/// <summary>A1111's hires upscalers that need no extra model: its latent modes (<c>shared.latent_upscale_modes</c>) and
/// the PIL resamplers (A1111's "None" resizes with Lanczos too: <c>images.resize_image</c>).</summary>
public enum HiresUpscaler
{
    Latent,
    LatentAntialiased,
    LatentBicubic,
    LatentBicubicAntialiased,
    LatentNearest,
    LatentNearestExact,
    Lanczos,
    Nearest,

    /// <summary>An upscaler model (the x4 upscaler): <see cref="HiresFix.ImageUpscaler"/>, then Lanczos to the final size.</summary>
    Model,
}
