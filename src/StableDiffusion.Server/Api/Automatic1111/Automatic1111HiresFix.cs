using StableDiffusion.Core.Pipelines;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Models;

namespace StableDiffusion.Server.Api.Automatic1111;

/// <summary>
/// A1111's hires fix fields of a txt2img body (<c>enable_hr</c>, <c>hr_scale</c>, <c>hr_resize_x/y</c>,
/// <c>hr_upscaler</c>, <c>hr_second_pass_steps</c>, <c>denoising_strength</c>) as Core's <see cref="HiresFix"/>, with
/// A1111's defaults (modules/processing.py StableDiffusionProcessingTxt2Img) and its target-size rules.
/// </summary>
internal static class Automatic1111HiresFix
{
    // StableDiffusionProcessingTxt2Img's defaults.
    private const double DefaultScale = 2.0;
    private const double DefaultDenoisingStrength = 0.75;

    /// <summary>What /sdapi/v1/latent-upscale-modes lists (A1111's shared.latent_upscale_modes, in its order).</summary>
    public static IReadOnlyList<(string Name, HiresUpscaler Upscaler)> LatentModes { get; } =
    [
        ("Latent", HiresUpscaler.Latent),
        ("Latent (antialiased)", HiresUpscaler.LatentAntialiased),
        ("Latent (bicubic)", HiresUpscaler.LatentBicubic),
        ("Latent (bicubic antialiased)", HiresUpscaler.LatentBicubicAntialiased),
        ("Latent (nearest)", HiresUpscaler.LatentNearest),
        ("Latent (nearest-exact)", HiresUpscaler.LatentNearestExact),
    ];

    /// <summary>The image upscalers /sdapi/v1/upscalers lists: A1111's built-in ones that need no model.</summary>
    public static IReadOnlyList<(string Name, HiresUpscaler Upscaler)> ImageUpscalers { get; } =
    [
        ("None", HiresUpscaler.Lanczos),
        ("Lanczos", HiresUpscaler.Lanczos),
        ("Nearest", HiresUpscaler.Nearest),
    ];

    /// <summary>The hires fix asked for; null when <c>enable_hr</c> is off. Field errors go to <paramref name="f"/>.</summary>
    public static HiresFix? Read(LooseFields f, int width, int height, LimitsOptions limits, ModelCatalog catalog, List<string> warnings)
    {
        if (f.Bool("enable_hr") != true)
        {
            return null;
        }

        var scale = f.Double("hr_scale") ?? DefaultScale;
        var resizeX = f.Int("hr_resize_x") ?? 0;
        var resizeY = f.Int("hr_resize_y") ?? 0;
        var steps = f.Int("hr_second_pass_steps") ?? 0;
        var strength = f.Double("denoising_strength") ?? DefaultDenoisingStrength;
        var upscalerName = f.String("hr_upscaler") is { Length: > 0 } named ? named : "Latent";
        var upscaler = Find(upscalerName);
        // A served x4 upscaler model ("SD x4 (name)") upscales the decoded first pass on the worker.
        var upscalerModel = upscaler is null ? Automatic1111ModelUpscale.Find(catalog, upscalerName)?.Name : null;
        if (upscalerModel is not null)
        {
            upscaler = HiresUpscaler.Model;
        }
        else if (upscaler is null)
        {
            warnings.Add($"hr_upscaler '{upscalerName}' is not available for the hires fix: Lanczos used (the latent modes, None, Lanczos, Nearest and the served x4 upscaler models are)");
            upscaler = HiresUpscaler.Lanczos;
        }

        if (!double.IsFinite(scale) || scale <= 0 || scale > 8)
        {
            f.Errors["hr_scale"] = "must be above 0 and at most 8";
        }

        if (resizeX < 0 || resizeY < 0)
        {
            f.Errors["hr_resize_x"] = "hr_resize_x and hr_resize_y must not be negative";
        }

        if (steps < 0 || steps > limits.MaxSteps)
        {
            f.Errors["hr_second_pass_steps"] = $"must be between 0 (the first pass's steps) and {limits.MaxSteps}";
        }

        if (!double.IsFinite(strength) || strength < 0 || strength > 1)
        {
            f.Errors["denoising_strength"] = "must be between 0 and 1";
        }

        if (f.Errors.Count > 0 || width <= 0 || height <= 0)
        {
            return null;
        }

        var (targetWidth, targetHeight) = Target(width, height, scale, resizeX, resizeY);
        var field = resizeX > 0 || resizeY > 0 ? "hr_resize_x" : "hr_scale";
        if (targetWidth < 8 || targetHeight < 8 || targetWidth > limits.MaxWidth || targetHeight > limits.MaxHeight
            || (long)targetWidth * targetHeight > limits.MaxPixels)
        {
            f.Errors[field] = $"the hires size is {targetWidth}x{targetHeight}; at least 8x8, at most {limits.MaxWidth}x{limits.MaxHeight} and {limits.MaxPixels} pixels are accepted (Limits)";
            return null;
        }

        return new HiresFix(targetWidth, targetHeight, upscaler.Value, upscalerName, strength, steps,
            resizeX > 0 || resizeY > 0 ? null : scale) { UpscalerModel = upscalerModel };
    }

    /// <summary>A1111's calculate_target_resolution, rounded down to the latent grid (its latents are size // 8). When both
    /// hr_resize_x and hr_resize_y are given and the aspect differs, A1111 covers and crops; we stretch to exactly that size.</summary>
    private static (int Width, int Height) Target(int width, int height, double scale, int resizeX, int resizeY)
    {
        var (w, h) = (resizeX, resizeY) switch
        {
            (0, 0) => ((int)(width * scale), (int)(height * scale)),
            (_, 0) => (resizeX, Clamp((long)resizeX * height / width)),
            (0, _) => (Clamp((long)resizeY * width / height), resizeY),
            _ => (resizeX, resizeY),
        };
        return (w / 8 * 8, h / 8 * 8);
    }

    // Past int's range the size is refused by the limits anyway; it must not wrap into a small one.
    private static int Clamp(long side) => (int)Math.Min(side, int.MaxValue);

    private static HiresUpscaler? Find(string name)
    {
        foreach (var (mode, upscaler) in LatentModes.Concat(ImageUpscalers))
        {
            if (mode.Equals(name.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return upscaler;
            }
        }

        return null;
    }
}
