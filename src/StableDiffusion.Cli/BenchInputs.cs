using StableDiffusion.Core.Imaging;
using StableDiffusion.Core.Pipelines;

namespace StableDiffusion.Cli;

/// <summary>The inputs <c>sd bench --task</c> feeds an image task when none are given: a colour gradient at the
/// output size (a quarter of it for the x4 upscaler), the right half as inpainting mask, a left-to-right depth ramp.</summary>
internal static class BenchInputs
{
    public static GenerationSettings Apply(GenerationSettings settings, StableDiffusionPipeline pipeline, string task, string? imagePath, double strength)
    {
        var kind = task switch
        {
            "txt2img" => GenerationTask.TextToImage,
            "img2img" => GenerationTask.ImageToImage,
            "inpaint" => GenerationTask.Inpaint,
            "upscale" => GenerationTask.Upscale,
            "depth" => GenerationTask.DepthToImage,
            _ => throw new UsageException($"--task must be txt2img, img2img, inpaint, upscale or depth, not '{task}'"),
        };
        if (!pipeline.Info.Tasks.Contains(kind))
        {
            throw new UsageException(ModelTasks.Unsupported(pipeline.Info, kind));
        }

        if (strength is < 0 or > 1 || !double.IsFinite(strength))
        {
            throw new UsageException($"--prompt-strength must be between 0 and 1, got {strength}");
        }

        if (kind == GenerationTask.TextToImage)
        {
            return settings;
        }

        int width = settings.Width ?? pipeline.Info.NativeWidth, height = settings.Height ?? pipeline.Info.NativeHeight;
        if (kind == GenerationTask.Upscale)
        {
            (width, height) = (Math.Max(8, width / 4 / 8 * 8), Math.Max(8, height / 4 / 8 * 8));
        }

        var image = imagePath is null ? Gradient(width, height) : ImageTaskCommand.ReadImage(imagePath, "--image");
        return settings with
        {
            Task = kind,
            Image = image,
            Mask = kind == GenerationTask.Inpaint ? HalfMask(image.Width, image.Height) : null,
            DepthImage = kind == GenerationTask.DepthToImage && !pipeline.Info.DepthEstimator ? Gradient(image.Width, image.Height) : null,
            PromptStrength = strength,
        };
    }

    private static RgbImage Gradient(int width, int height)
    {
        var image = RgbImage.Create(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int p = (y * width + x) * 3;
                image.Pixels[p] = (byte)(x * 255 / Math.Max(1, width - 1));
                image.Pixels[p + 1] = (byte)(y * 255 / Math.Max(1, height - 1));
                image.Pixels[p + 2] = 96;
            }
        }

        return image;
    }

    private static RgbImage HalfMask(int width, int height)
    {
        var mask = RgbImage.Create(width, height);
        for (int y = 0; y < height; y++)
        {
            mask.Pixels.AsSpan((y * width + width / 2) * 3, (width - width / 2) * 3).Fill(255);
        }

        return mask;
    }
}
