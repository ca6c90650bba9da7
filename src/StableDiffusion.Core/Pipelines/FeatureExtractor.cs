using System.Text.Json;
using SixLabors.ImageSharp.Processing;
using StableDiffusion.Core.Imaging;

namespace StableDiffusion.Core.Pipelines;

/// <summary>
/// A transformers image processor as a model folder's <c>feature_extractor/preprocessor_config.json</c> describes it:
/// resize (shortest edge, or to a fixed size), centre crop, ×1/255, normalise by mean/std → planes [3, H, W].
/// Used for the safety checker's <c>clip_input</c> (CLIPImageProcessor) and the depth estimator's
/// <c>pixel_values</c> (DPTImageProcessor). Resampling is bicubic (their <c>resample: 3</c>), done by ImageSharp.
/// </summary>
public sealed record FeatureExtractor
{
    /// <summary>Resize so the shorter side is this (CLIP); null with <see cref="ResizeHeight"/> set = fixed size.</summary>
    public int? ShortestEdge { get; init; }
    public int? ResizeHeight { get; init; }
    public int? ResizeWidth { get; init; }
    public int? CropHeight { get; init; }
    public int? CropWidth { get; init; }
    public float[] Mean { get; init; } = [0.5f, 0.5f, 0.5f];
    public float[] Std { get; init; } = [0.5f, 0.5f, 0.5f];

    /// <summary>openai/clip-vit-large-patch14's processor, which the SD safety checker ships with.</summary>
    public static FeatureExtractor Clip { get; } = new()
    {
        ShortestEdge = 224,
        CropHeight = 224,
        CropWidth = 224,
        Mean = [0.48145466f, 0.4578275f, 0.40821073f],
        Std = [0.26862954f, 0.26130258f, 0.27577711f],
    };

    /// <summary>stable-diffusion-2-depth's DPTImageProcessor: 384×384 without keeping the aspect ratio, mean = std = 0.5.</summary>
    public static FeatureExtractor Dpt(int height = 384, int width = 384) => new() { ResizeHeight = height, ResizeWidth = width };

    public int OutputHeight => CropHeight ?? ResizeHeight ?? ShortestEdge ?? 224;
    public int OutputWidth => CropWidth ?? ResizeWidth ?? ShortestEdge ?? 224;

    /// <summary>Reads <paramref name="path"/> over <paramref name="fallback"/>; a missing file gives the fallback.</summary>
    public static FeatureExtractor Load(string path, FeatureExtractor fallback)
    {
        if (!File.Exists(path))
        {
            return fallback;
        }

        try
        {
            return Parse(path, fallback);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or KeyNotFoundException)
        {
            throw new Models.ModelLoadException($"feature_extractor/preprocessor_config.json is not a valid image processor config: {ex.Message}", ex);
        }
    }

    private static FeatureExtractor Parse(string path, FeatureExtractor fallback)
    {
        using var doc = Models.PythonJson.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        var result = fallback;
        if (root.TryGetProperty("size", out var size))
        {
            if (size.ValueKind == JsonValueKind.Number)
            {
                result = fallback.ShortestEdge is not null
                    ? result with { ShortestEdge = size.GetInt32() }
                    : result with { ResizeHeight = size.GetInt32(), ResizeWidth = size.GetInt32() };
            }
            else if (size.ValueKind == JsonValueKind.Object)
            {
                if (size.TryGetProperty("shortest_edge", out var se))
                {
                    result = result with { ShortestEdge = se.GetInt32(), ResizeHeight = null, ResizeWidth = null };
                }
                else if (size.TryGetProperty("height", out var h) && size.TryGetProperty("width", out var w))
                {
                    result = result with { ShortestEdge = null, ResizeHeight = h.GetInt32(), ResizeWidth = w.GetInt32() };
                }
            }
        }

        bool crop = !root.TryGetProperty("do_center_crop", out var dc) || dc.ValueKind != JsonValueKind.False;
        if (root.TryGetProperty("crop_size", out var cs) && crop)
        {
            result = cs.ValueKind == JsonValueKind.Number
                ? result with { CropHeight = cs.GetInt32(), CropWidth = cs.GetInt32() }
                : result with { CropHeight = cs.GetProperty("height").GetInt32(), CropWidth = cs.GetProperty("width").GetInt32() };
        }
        else if (!crop)
        {
            result = result with { CropHeight = null, CropWidth = null };
        }

        if (root.TryGetProperty("image_mean", out var mean) && mean.GetArrayLength() == 3)
        {
            result = result with { Mean = [.. mean.EnumerateArray().Select(e => e.GetSingle())] };
        }

        if (root.TryGetProperty("image_std", out var std) && std.GetArrayLength() == 3)
        {
            result = result with { Std = [.. std.EnumerateArray().Select(e => e.GetSingle())] };
        }

        return result;
    }

    /// <summary>Planes [3, OutputHeight, OutputWidth], normalised.</summary>
    public float[] Process(RgbImage image)
    {
        int rw, rh;
        if (ShortestEdge is int edge)
        {
            // transformers' get_resize_output_image_size(default_to_square=False): short side = edge, long side
            // int(edge · long / short).
            bool portrait = image.Height > image.Width;
            int shortSide = Math.Min(image.Width, image.Height), longSide = Math.Max(image.Width, image.Height);
            int newLong = (int)((long)edge * longSide / shortSide);
            (rw, rh) = portrait ? (edge, newLong) : (newLong, edge);
        }
        else
        {
            (rw, rh) = (ResizeWidth ?? image.Width, ResizeHeight ?? image.Height);
        }

        var resized = ImageResizer.Resize(image, rw, rh, KnownResamplers.Bicubic);
        int ch = CropHeight ?? rh, cw = CropWidth ?? rw;
        int top = (rh - ch) / 2, left = (rw - cw) / 2;
        var planes = new float[3 * ch * cw];
        int plane = ch * cw;
        for (int y = 0; y < ch; y++)
        {
            int sy = Math.Clamp(top + y, 0, rh - 1);
            for (int x = 0; x < cw; x++)
            {
                int sx = Math.Clamp(left + x, 0, rw - 1);
                int p = (sy * rw + sx) * 3;
                for (int c = 0; c < 3; c++)
                {
                    planes[c * plane + y * cw + x] = (resized.Pixels[p + c] / 255f - Mean[c]) / Std[c];
                }
            }
        }

        return planes;
    }
}
