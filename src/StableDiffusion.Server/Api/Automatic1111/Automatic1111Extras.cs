using System.Text.Json;
using System.Text.Json.Nodes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using SixLabors.ImageSharp.Processing.Processors.Transforms;
using StableDiffusion.Core.Imaging;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Models;

namespace StableDiffusion.Server.Api.Automatic1111;

/// <summary>
/// A1111's "Extras" tab over the API (<c>/sdapi/v1/extra-single-image</c>, <c>/extra-batch-images</c>) with the
/// upscalers that need no model — None (the image as it is), Lanczos, Nearest, as modules/upscaler.py's UpscalerNone,
/// UpscalerLanczos and UpscalerNearest — and <c>/png-info</c>. No face restoration: gfpgan/codeformer fields are ignored.
/// </summary>
internal static class Automatic1111Extras
{
    // ExtrasBaseRequest's defaults (modules/api/models.py).
    private const double DefaultResize = 2.0;
    private const int DefaultSize = 512;

    public static Task<IResult> SingleImageAsync(HttpContext context, [AsParameters] Automatic1111Services s)
        => WithBodyAsync(context, s, SingleImageAsync);

    public static Task<IResult> BatchImagesAsync(HttpContext context, [AsParameters] Automatic1111Services s)
        => WithBodyAsync(context, s, BatchImagesAsync);

    /// <summary>A1111's PNGInfoResponse: the <c>parameters</c> text, every text chunk, and the text parsed.</summary>
    public static Task<IResult> PngInfoAsync(HttpContext context, [AsParameters] Automatic1111Services s)
        => WithBodyAsync(context, s, (_, _, root, _) => Task.FromResult(PngInfo(root)));

    /// <summary>Reads the JSON body under the byte cap that fits one image as base64, then runs the handler on it.</summary>
    private static async Task<IResult> WithBodyAsync(HttpContext context, Automatic1111Services s,
        Func<HttpContext, Automatic1111Services, JsonElement, LimitsOptions, Task<IResult>> handle)
    {
        var limits = s.Limits.CurrentValue;
        var read = await RequestBodies.ReadObjectAsync(context.Request, limits.BodyLimit);
        if (!read.Ok)
        {
            return read.Problem(limits.BodyLimit);
        }
        using var document = read.Value;
        return await handle(context, s, document.RootElement, limits);
    }

    private static async Task<IResult> SingleImageAsync(HttpContext context, Automatic1111Services s, JsonElement root, LimitsOptions limits)
    {
        var f = new LooseFields(root);
        var image = f.String("image") is { Length: > 0 } value ? value : null;
        if (image is null)
        {
            f.Errors.TryAdd("image", "is required: a base64 image");
        }
        var (outputs, failure) = await RunAsync(context, s, f, image is null ? [] : [("image", image)], limits);
        return failure ?? TypedResults.Ok(new JsonObject { ["html_info"] = "", ["image"] = outputs![0] });
    }

    private static async Task<IResult> BatchImagesAsync(HttpContext context, Automatic1111Services s, JsonElement root, LimitsOptions limits)
    {
        var f = new LooseFields(root);
        var images = new List<(string Field, string Data)>();
        if (root.TryGetProperty("imageList", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var item in list.EnumerateArray())
            {
                var field = $"imageList[{index++}].data";
                if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.String)
                {
                    images.Add((field, data.GetString()!));
                }
                else
                {
                    f.Errors.TryAdd(field, "is required: a base64 image");
                }
            }
        }
        if (images.Count == 0 || images.Count > limits.MaxOutputs)
        {
            f.Errors.TryAdd("imageList", $"must hold 1 to {limits.MaxOutputs} images ({{\"data\": base64, \"name\": ...}}; Limits:MaxOutputs)");
        }
        var (outputs, failure) = await RunAsync(context, s, f, images, limits);
        return failure ?? TypedResults.Ok(new JsonObject { ["html_info"] = "", ["images"] = new JsonArray([.. outputs!.Select(o => (JsonNode?)o)]) });
    }

    private static IResult PngInfo(JsonElement root)
    {
        var f = new LooseFields(root);
        if (f.String("image") is not { Length: > 0 } value || Base64(value) is not { } bytes)
        {
            return Problems.Validation(new Dictionary<string, string[]> { ["image"] = ["is required: a base64 image"] });
        }
        var items = new JsonObject();
        try
        {
            var info = Image.Identify(bytes);
            foreach (var text in info?.Metadata.GetPngMetadata().TextData ?? [])
            {
                items[text.Keyword] = text.Value;
            }
        }
        catch (ImageFormatException)
        {
            return Problems.Validation(new Dictionary<string, string[]> { ["image"] = ["is not an image this server reads (PNG, JPEG, WebP)"] });
        }
        var parameters = items[PngWriter.ParametersKeyword]?.GetValue<string>();
        return TypedResults.Ok(new JsonObject
        {
            ["info"] = parameters ?? "",
            ["items"] = items,
            ["parameters"] = parameters is null ? new JsonObject() : Automatic1111Infotext.Parse(parameters),
        });
    }

    /// <summary>Each image upscaled as the request's fields say, as base64 PNG; else the answer (a field error, or the
    /// upscaler model's job failing).</summary>
    private static async Task<(List<string>? Images, IResult? Failure)> RunAsync(HttpContext context, Automatic1111Services s, LooseFields f,
        IReadOnlyList<(string Field, string Data)> images, LimitsOptions limits)
    {
        var options = ReadOptions(f, s);
        if (f.Errors.Count > 0)
        {
            return (null, Problems.Validation(f.Errors.ToDictionary(e => e.Key, e => new[] { e.Value })));
        }

        var outputs = new List<string>();
        foreach (var (field, data) in images)
        {
            byte[]? png = null;
            RgbImage decoded;
            try
            {
                if (options.Model is { } model)
                {
                    (png, var failure) = await Automatic1111ModelUpscale.RunAsync(context, s, model, Automatic1111Request.ToDataUri(data), field);
                    if (failure is not null)
                    {
                        return (null, failure);
                    }
                }
                decoded = png is not null ? ImageDecoder.Decode(png, field) : ImageDecoder.DecodeDataUri(Automatic1111Request.ToDataUri(data), field, limits.ImageLimits);
            }
            catch (ImageInputException e)
            {
                return (null, Problems.Validation(new Dictionary<string, string[]> { [field] = [e.Detail] }));
            }
            // The model's output is 4x its input; the factor applies to the input.
            var inputScale = png is null ? 1.0 : 4.0;
            var (w, h) = options.Mode == 0
                ? ((int)Math.Round(decoded.Width / inputScale * options.Factor), (int)Math.Round(decoded.Height / inputScale * options.Factor))
                : (options.Width, options.Height);
            if ((long)w * h > limits.MaxImagePixels)
            {
                var name = options.Mode == 0 ? "upscaling_resize" : "upscaling_resize_w";
                return (null, Problems.Validation(new Dictionary<string, string[]> { [name] = [$"the result would be {w}x{h}, over {limits.MaxImagePixels} pixels (Limits:MaxImagePixels)"] }));
            }
            var same = decoded.Width == w && decoded.Height == h;
            var resampler = options.Resampler ?? (png is null ? null : KnownResamplers.Lanczos3);
            outputs.Add(Convert.ToBase64String(same || resampler is null
                ? png ?? PngWriter.Encode(decoded, null)
                : Resize(decoded, w, h, options.Crop && options.Mode == 1, resampler)));
        }
        return (outputs, null);
    }

    /// <summary>The ExtrasBaseRequest fields; errors go to <paramref name="f"/>.</summary>
    private static ExtrasOptions ReadOptions(LooseFields f, Automatic1111Services s)
    {
        var mode = f.Int("resize_mode") ?? 0;
        var factor = f.Double("upscaling_resize") ?? DefaultResize;
        var width = f.Int("upscaling_resize_w") ?? DefaultSize;
        var height = f.Int("upscaling_resize_h") ?? DefaultSize;
        var crop = f.Bool("upscaling_crop") ?? true;
        var upscaler = f.String("upscaler_1") is { Length: > 0 } name ? name : "None";
        if (mode is not (0 or 1))
        {
            f.Errors["resize_mode"] = "must be 0 (scale by upscaling_resize) or 1 (to upscaling_resize_w × upscaling_resize_h)";
        }
        if (!double.IsFinite(factor) || factor <= 0 || factor > 8)
        {
            f.Errors["upscaling_resize"] = "must be above 0 and at most 8";
        }
        if (width < 1 || height < 1)
        {
            f.Errors["upscaling_resize_w"] = "upscaling_resize_w and upscaling_resize_h must be at least 1";
        }
        IResampler? resampler = null;
        ServedModel? model = null;
        switch (upscaler.ToLowerInvariant())
        {
            case "none":
                break;
            case "lanczos":
                resampler = KnownResamplers.Lanczos3;
                break;
            case "nearest":
                resampler = KnownResamplers.NearestNeighbor;
                break;
            default:
                model = Automatic1111ModelUpscale.Find(s.Catalog, upscaler);
                if (model is null)
                {
                    f.Errors["upscaler_1"] = $"unknown upscaler '{upscaler}'; one of {string.Join(", ", Automatic1111Api.UpscalerNames(s.Catalog))} (GET /sdapi/v1/upscalers)";
                }
                break;
        }
        return new ExtrasOptions(mode, factor, width, height, crop, resampler, model);
    }

    private sealed record ExtrasOptions(int Mode, double Factor, int Width, int Height, bool Crop, IResampler? Resampler, ServedModel? Model);

    /// <summary>Resized with the resampler; with crop (A1111's upscaling_crop), scaled to cover and centre-cropped.</summary>
    private static byte[] Resize(RgbImage image, int width, int height, bool crop, IResampler resampler)
    {
        using var img = Image.LoadPixelData<Rgb24>(image.Pixels, image.Width, image.Height);
        img.Mutate(x => x.Resize(new ResizeOptions { Size = new Size(width, height), Mode = crop ? ResizeMode.Crop : ResizeMode.Stretch, Sampler = resampler }));
        var result = RgbImage.Create(img.Width, img.Height);
        img.CopyPixelDataTo(result.Pixels);
        return PngWriter.Encode(result, null);
    }

    private static byte[]? Base64(string value)
    {
        var comma = value.StartsWith("data:", StringComparison.OrdinalIgnoreCase) ? value.IndexOf(',') : -1;
        try
        {
            return Convert.FromBase64String(comma >= 0 ? value[(comma + 1)..] : value);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
