using StableDiffusion.Core.Imaging;

namespace StableDiffusion.Core.Pipelines;

/// <summary>An inpainting mask as diffusers prepares it: grey, resized to the image, binarised, and its latent-size
/// version. 1 = repaint (white in the user's mask), 0 = keep.</summary>
public sealed class InpaintMask
{
    private InpaintMask(float[] pixels, int width, int height, float[] latent, int latentWidth, int latentHeight)
    {
        Pixels = pixels;
        Width = width;
        Height = height;
        Latent = latent;
        LatentWidth = latentWidth;
        LatentHeight = latentHeight;
    }

    /// <summary>Binary mask at image size [H, W].</summary>
    public float[] Pixels { get; }
    public int Width { get; }
    public int Height { get; }
    /// <summary>Binary mask at latent size [h, w].</summary>
    public float[] Latent { get; }
    public int LatentWidth { get; }
    public int LatentHeight { get; }

    /// <summary>
    /// diffusers' mask processor (<c>VaeImageProcessor(do_normalize=False, do_binarize=True, do_convert_grayscale=True)</c>):
    /// PIL "L" conversion, Lanczos resize to the image size, /255, then 0 below 0.5 and 1 at or above. The latent mask is
    /// <c>torch.nn.functional.interpolate(mask, size=(h, w))</c> with its default mode "nearest": output (i, j) reads
    /// input (⌊i·H/h⌋, ⌊j·W/w⌋) — for a factor of 8 the top-left pixel of each 8×8 block, not an average.
    /// </summary>
    public static InpaintMask Prepare(RgbImage mask, int width, int height, int latentWidth, int latentHeight)
    {
        byte[] luma = ImageResizer.ResizeLuma(ImageResizer.ToLuma(mask), mask.Width, mask.Height, width, height);
        var pixels = new float[width * height];
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = luma[i] / 255f >= 0.5f ? 1f : 0f;
        }

        var latent = new float[latentWidth * latentHeight];
        for (int y = 0; y < latentHeight; y++)
        {
            int sy = Math.Min((int)Math.Floor(y * ((double)height / latentHeight)), height - 1);
            for (int x = 0; x < latentWidth; x++)
            {
                int sx = Math.Min((int)Math.Floor(x * ((double)width / latentWidth)), width - 1);
                latent[y * latentWidth + x] = pixels[sy * width + sx];
            }
        }

        return new InpaintMask(pixels, width, height, latent, latentWidth, latentHeight);
    }

    /// <summary>diffusers: <c>masked_image = image · (mask &lt; 0.5)</c> on planes in [-1, 1] — repainted pixels become 0 (grey).</summary>
    public float[] MaskImage(ReadOnlySpan<float> planes)
    {
        var masked = planes.ToArray();
        int plane = Width * Height;
        for (int c = 0; c < 3; c++)
        {
            for (int i = 0; i < plane; i++)
            {
                if (Pixels[i] >= 0.5f)
                {
                    masked[c * plane + i] = 0f;
                }
            }
        }

        return masked;
    }
}
