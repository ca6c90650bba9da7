using SixLabors.ImageSharp.Processing;
using StableDiffusion.Core.Imaging;

namespace StableDiffusion.Core.Pipelines;

/// <summary>The x4 upscaler (diffusers' StableDiffusionUpscalePipeline).</summary>
public sealed partial class StableDiffusionPipeline
{
    /// <remarks>
    /// The low-res image (rounded down to a multiple of 8 with a bicubic resize when it is not one already) is the
    /// latent canvas: latents are [4, h, w] at its size and the VAE (factor 4) decodes to 4h×4w; width/height of the
    /// request are ignored. Per image k: ε₁ noises the low-res image with the low_res_scheduler's DDPM add_noise at
    /// <c>noise_level</c>, then ε₂·init_noise_sigma are the start latents — diffusers' order. UNet input =
    /// [scaled latents (4), noised low-res image (3)], <c>class_labels</c> = noise_level. Every step runs (no strength).
    /// Inputs over <see cref="Models.ModelLoadOptions.MaxUpscaleLatentPixels"/> run tile by tile (see <see cref="UpscaleTiles"/>).
    /// </remarks>
    private DecodedGeneration Upscale(GenerationSettings settings, GenerationObserver? observer, CancellationToken cancellationToken)
    {
        var input = Require(settings.Image, "image", settings.Task);
        RejectLatents(settings);
        if (settings.NoiseLevel < 0 || settings.NoiseLevel > Math.Min(_folder.MaxNoiseLevel, _lowResNoise!.MaxTimestep))
        {
            throw new ArgumentException($"noise_level must be between 0 and {Math.Min(_folder.MaxNoiseLevel, _lowResNoise!.MaxTimestep)}, got {settings.NoiseLevel}.", nameof(settings.NoiseLevel));
        }

        var (lowWidth, lowHeight) = ImageResizer.RoundDown(input.Width, input.Height, 8);
        int factor = _folder.LatentFactor;
        var run = new GenerationRun(this, settings with { Width = null, Height = null }, observer, lowWidth * factor, lowHeight * factor);
        if (settings.Width is not null || settings.Height is not null)
        {
            run.Log($"upscale: the output is 4x the input ({run.Width}x{run.Height}); the requested width/height are ignored");
        }

        using var activity = CoreTelemetry.ActivitySource.StartActivity("generate");
        activity?.SetTag("sd.model", Info.Name);
        activity?.SetTag("sd.task", "upscale");

        int images = settings.NumOutputs;
        float[] hidden = run.Stage("text_encoder", () => EncodePrompts(settings, images, settings.GuidanceScale > 1.0, run.Log));
        var noise = run.CreateNoise();
        float[] low = ImageTensors.ToPlanes(ImageResizer.Resize(input, lowWidth, lowHeight, KnownResamplers.Bicubic));
        int plane = lowWidth * lowHeight;
        var lowNoise = new float[images * 3 * plane];
        noise.Fill(lowNoise);
        var condition = new float[images * 3 * plane];
        for (int n = 0; n < images; n++)
        {
            _lowResNoise.Add(low, lowNoise.AsSpan(n * 3 * plane, 3 * plane), settings.NoiseLevel, condition.AsSpan(n * 3 * plane, 3 * plane));
        }

        var latentNoise = new float[images * 4 * plane];
        noise.Fill(latentNoise);

        var tiles = UpscaleTiles.Plan(lowWidth, lowHeight, _options.MaxUpscaleLatentPixels, _options.UpscaleTileOverlap);
        if (tiles.Count > 1)
        {
            run.Log($"upscale: {lowWidth}x{lowHeight} is over {_options.MaxUpscaleLatentPixels} latent pixels; running {tiles.Count} tiles of {tiles[0].Width}x{tiles[0].Height}");
        }

        var output = new float[images * 3 * run.Width * run.Height];
        var weights = new float[run.Width * run.Height];
        int stepsRun = 0;
        string schedulerName = "";
        foreach (var tile in tiles)
        {
            var scheduler = CreateScheduler(settings);
            schedulerName = scheduler.Name;
            float[] latents = Crop(latentNoise, images, 4, lowWidth, lowHeight, tile);
            Scale(latents, scheduler.InitNoiseSigma);
            float[] extra = Crop(condition, images, 3, lowWidth, lowHeight, tile);
            stepsRun = Denoise(run, settings, scheduler, hidden, latents, tile.Height, tile.Width, 0, noise, extra, null,
                [settings.NoiseLevel], observer, cancellationToken);
            int perImage = latents.Length / images;
            for (int n = 0; n < images; n++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var decoded = run.Stage("vae_decode", () => _vaeDecoder.Decode(latents.AsSpan(n * perImage, perImage), tile.Height, tile.Width));
                Accumulate(decoded, tile, factor, lowWidth, lowHeight, tiles.Count > 1 ? _options.UpscaleTileOverlap * factor : 0,
                    output.AsSpan(n * 3 * run.Width * run.Height, 3 * run.Width * run.Height), n == 0 ? weights : null, run.Width);
            }
        }

        var results = new DecodedImage[images];
        for (int n = 0; n < images; n++)
        {
            var image = ToImage(output.AsSpan(n * 3 * run.Width * run.Height, 3 * run.Width * run.Height), weights, run.Width, run.Height);
            results[n] = run.Check(n, image, schedulerName);
        }

        return run.Result(results, stepsRun);
    }

    /// <summary>The tile's window of a batch of planes [N, C, H, W] → [N, C, th, tw].</summary>
    private static float[] Crop(float[] source, int images, int channels, int width, int height, UpscaleTile tile)
    {
        var result = new float[images * channels * tile.Width * tile.Height];
        int o = 0;
        for (int nc = 0; nc < images * channels; nc++)
        {
            for (int y = 0; y < tile.Height; y++)
            {
                source.AsSpan(nc * width * height + (tile.Y + y) * width + tile.X, tile.Width).CopyTo(result.AsSpan(o));
                o += tile.Width;
            }
        }

        return result;
    }

    /// <summary>Adds a decoded tile into the output planes [3, H, W] with its blend weights (summed into
    /// <paramref name="weights"/> once, for image 0, since every image has the same tiles).</summary>
    private static void Accumulate(RgbImage tileImage, UpscaleTile tile, int factor, int lowWidth, int lowHeight, int ramp,
        Span<float> output, float[]? weights, int outWidth)
    {
        int outHeight = output.Length / 3 / outWidth;
        int x0 = tile.X * factor, y0 = tile.Y * factor;
        bool left = tile.X > 0, right = tile.X + tile.Width < lowWidth, top = tile.Y > 0, bottom = tile.Y + tile.Height < lowHeight;
        int plane = outWidth * outHeight;
        for (int y = 0; y < tileImage.Height; y++)
        {
            float wy = UpscaleTiles.Weight(y, tileImage.Height, ramp, top, bottom);
            for (int x = 0; x < tileImage.Width; x++)
            {
                float w = wy * UpscaleTiles.Weight(x, tileImage.Width, ramp, left, right);
                int o = (y0 + y) * outWidth + x0 + x;
                int p = (y * tileImage.Width + x) * 3;
                for (int c = 0; c < 3; c++)
                {
                    output[c * plane + o] += w * tileImage.Pixels[p + c];
                }

                if (weights is not null)
                {
                    weights[o] += w;
                }
            }
        }
    }

    private static RgbImage ToImage(ReadOnlySpan<float> planes, float[] weights, int width, int height)
    {
        var image = RgbImage.Create(width, height);
        int plane = width * height;
        for (int i = 0; i < plane; i++)
        {
            for (int c = 0; c < 3; c++)
            {
                float v = weights[i] > 0 ? planes[c * plane + i] / weights[i] : 0f;
                image.Pixels[i * 3 + c] = (byte)Math.Clamp(MathF.Round(v, MidpointRounding.ToEven), 0f, 255f);
            }
        }

        return image;
    }
}
