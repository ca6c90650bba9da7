using StableDiffusion.Core.Imaging;

namespace StableDiffusion.Core.Pipelines;

/// <summary>One output image after the VAE and the safety checker, before its watermark and encoding.</summary>
/// <param name="Parameters">The A1111-style parameters text its PNG carries.</param>
public sealed record DecodedImage(int Index, long Seed, RgbImage Image, bool NsfwDetected, string Parameters);

/// <summary>
/// A generation whose device work is done: decoded (and safety-checked) images waiting for the CPU-only ending —
/// invisible watermark and encode (PNG with parameters, WebP or JPEG). <see cref="Finish"/> uses no ONNX session, so a
/// host may run it on another thread while the pipeline already serves the next generation.
/// </summary>
public sealed class DecodedGeneration
{
    private readonly IReadOnlyDictionary<string, double> _stages;
    private readonly string? _watermarkPayload;
    private readonly OutputFormat _format;
    private readonly int _quality;

    internal DecodedGeneration(IReadOnlyList<DecodedImage> images, IReadOnlyDictionary<string, double> stages, double onnxSeconds,
        int stepsRun, IReadOnlyList<string> logs, GenerationSettings settings)
    {
        Images = images;
        _stages = stages;
        OnnxRuntimeSeconds = onnxSeconds;
        StepsRun = stepsRun;
        Logs = logs;
        _watermarkPayload = settings.WatermarkPayload;
        _format = settings.OutputFormat;
        _quality = settings.OutputQuality;
    }

    public IReadOnlyList<DecodedImage> Images { get; }

    /// <summary>Wall time per device-side stage (tokenize, text_encoder, denoise, vae_decode, safety_checker).</summary>
    public IReadOnlyDictionary<string, double> StageSeconds => _stages;

    public double OnnxRuntimeSeconds { get; }

    public int StepsRun { get; }

    public IReadOnlyList<string> Logs { get; }

    /// <summary>Watermarks (unless flagged or off) and encodes every image; the result's stage times include both sides.</summary>
    public GenerationResult Finish(CancellationToken cancellationToken = default)
    {
        var stages = new Dictionary<string, double>(_stages);
        var watermark = _watermarkPayload is { Length: > 0 } payload ? InvisibleWatermark.FromText(payload) : null;
        var results = new GeneratedImage[Images.Count];
        for (int k = 0; k < results.Length; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (index, seed, image, nsfw, parameters) = Images[k];
            // A black (flagged) image carries no watermark: dwtDct on a saturated image wraps around (DESIGN §4).
            bool marked = !nsfw && watermark is not null
                && StageClock.Time(stages, "watermark", () => watermark.Embed(image.Pixels, image.Width, image.Height));
            byte[] bytes = StageClock.Time(stages, ImageEncoder.StageName(_format), () => ImageEncoder.Encode(image, parameters, _format, _quality));
            results[k] = new GeneratedImage(index, seed, bytes, image.Width, image.Height, marked, nsfw, _format);
        }

        return new GenerationResult(results, stages, OnnxRuntimeSeconds, StepsRun, Logs);
    }
}
