using System.Globalization;
using StableDiffusion.Core.Models;

namespace StableDiffusion.Server.Generation;

/// <summary>
/// The output size a request asks for, in any of its three spellings: <c>width</c>/<c>height</c>, <c>size</c>
/// ("WIDTHxHEIGHT") or <c>aspect_ratio</c> ("W:H"), the last two as Replicate's models (and the AI SDK's Replicate
/// provider) send them. Spellings that disagree are an error on each field involved. <see cref="WidthField"/> and
/// <see cref="HeightField"/> name the field a later range check blames.
/// </summary>
internal sealed record RequestedSize(int? Width, int? Height, string WidthField, string HeightField)
{
    private const string OneWay = "give width/height, size or aspect_ratio, not several that disagree";

    public static RequestedSize Resolve(GenerationInput input, ModelInfo? info, FieldErrors errors)
    {
        var fromSize = input.Size is { } size ? ParseSize(size, errors) : null;
        var fromRatio = input.AspectRatio is { } ratio ? FromAspectRatio(ratio, info, errors) : null;
        if (fromSize is not null && fromRatio is not null && fromSize != fromRatio)
        {
            errors.Add("size", $"conflicts with 'aspect_ratio': {OneWay}");
            errors.Add("aspect_ratio", $"conflicts with 'size': {OneWay}");
            return new RequestedSize(input.Width, input.Height, "width", "height");
        }
        if ((fromSize ?? fromRatio) is not var (w, h))
        {
            return new RequestedSize(input.Width, input.Height, "width", "height");
        }
        var field = fromSize is not null ? "size" : "aspect_ratio";
        var clashes = new List<string>();
        if (input.Width is { } width && width != w)
        {
            clashes.Add("width");
        }
        if (input.Height is { } height && height != h)
        {
            clashes.Add("height");
        }
        foreach (var clash in clashes)
        {
            errors.Add(clash, $"conflicts with '{field}' ({w}x{h}): {OneWay}");
        }
        if (clashes.Count > 0)
        {
            errors.Add(field, $"gives {w}x{h}, which conflicts with {string.Join(" and ", clashes.Select(c => $"'{c}'"))}: {OneWay}");
        }
        return new RequestedSize(w, h, field, field);
    }

    private static (int, int)? ParseSize(string size, FieldErrors errors)
    {
        var parts = size.Split('x', 'X');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var w)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var h))
        {
            return (w, h);
        }
        errors.Add("size", $"must be WIDTHxHEIGHT in pixels (e.g. 768x512), not '{size}'");
        return null;
    }

    /// <summary>
    /// W:H at about the model's native pixel count: width = sqrt(pixels * W/H), height = sqrt(pixels * H/W), each
    /// rounded to the nearest multiple of 8 (the latent factor when larger), so a 512x512 model gives 680x384 for 16:9
    /// and 512x512 for 1:1.
    /// </summary>
    private static (int, int)? FromAspectRatio(string ratio, ModelInfo? info, FieldErrors errors)
    {
        var parts = ratio.Split(':');
        if (parts.Length != 2
            || !double.TryParse(parts[0], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var a)
            || !double.TryParse(parts[1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var b)
            || a <= 0 || b <= 0 || !double.IsFinite(a / b))
        {
            errors.Add("aspect_ratio", $"must be W:H with positive numbers (e.g. 16:9), not '{ratio}'");
            return null;
        }
        var pixels = (double)(info?.NativeWidth ?? 512) * (info?.NativeHeight ?? 512);
        var step = Math.Max(8, info?.LatentFactor ?? 8);
        int Round(double side) => (int)Math.Min(int.MaxValue / 2, Math.Max(1, Math.Round(side / step)) * step);
        return (Round(Math.Sqrt(pixels * a / b)), Round(Math.Sqrt(pixels * b / a)));
    }
}
