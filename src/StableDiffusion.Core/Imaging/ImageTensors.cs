namespace StableDiffusion.Core.Imaging;

/// <summary>Conversions between CHW float planes in [-1, 1] and RGB8 images, with diffusers' rounding.</summary>
public static class ImageTensors
{
    /// <summary>CHW planes in [-1, 1] → RGB8: clamp(x/2 + 0.5, 0, 1)·255 rounded half to even, in float32, exactly as
    /// diffusers' <c>numpy_to_pil</c> after the ONNX pipeline's <c>np.clip(image / 2 + 0.5, 0, 1)</c>.</summary>
    public static RgbImage FromPlanes(ReadOnlySpan<float> planes, int width, int height)
    {
        int plane = width * height;
        var image = RgbImage.Create(width, height);
        var pixels = image.Pixels;
        for (int c = 0; c < 3; c++)
        {
            var source = planes.Slice(c * plane, plane);
            for (int i = 0; i < plane; i++)
            {
                float v = source[i] / 2f + 0.5f;
                v = v < 0f ? 0f : v > 1f ? 1f : v;
                pixels[i * 3 + c] = (byte)MathF.Round(v * 255f, MidpointRounding.ToEven);
            }
        }

        return image;
    }

    /// <summary>RGB8 → CHW planes in [-1, 1] (diffusers' preprocess: x / 255 · 2 − 1).</summary>
    public static float[] ToPlanes(RgbImage image)
    {
        int plane = image.Width * image.Height;
        var planes = new float[3 * plane];
        var pixels = image.Pixels;
        for (int i = 0; i < plane; i++)
        {
            for (int c = 0; c < 3; c++)
            {
                planes[c * plane + i] = pixels[i * 3 + c] / 255f * 2f - 1f;
            }
        }

        return planes;
    }
}
