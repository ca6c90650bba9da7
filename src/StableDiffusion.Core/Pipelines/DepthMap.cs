using StableDiffusion.Core.Imaging;

namespace StableDiffusion.Core.Pipelines;

/// <summary>The depth conditioning of depth-to-image: a map at latent size normalised to [-1, 1] per image.</summary>
public static class DepthMap
{
    /// <summary>
    /// diffusers' <c>prepare_depth_map</c> after the estimate: bicubic resize (PyTorch, align_corners=False) to
    /// latent size, then <c>2·(d − min)/(max − min) − 1</c> over the whole map. A flat map (max = min), on which
    /// diffusers divides by zero and feeds NaN to the UNet, gives all zeros here.
    /// </summary>
    public static float[] ToLatent(ReadOnlySpan<float> depth, int height, int width, int latentHeight, int latentWidth)
    {
        var resized = TensorInterpolation.Bicubic(depth, height, width, latentHeight, latentWidth);
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (float v in resized)
        {
            min = MathF.Min(min, v);
            max = MathF.Max(max, v);
        }

        float range = max - min;
        for (int i = 0; i < resized.Length; i++)
        {
            resized[i] = range > 0 ? 2f * (resized[i] - min) / range - 1f : 0f;
        }

        return resized;
    }

    /// <summary>A user's depth image: its PIL "L" grey values (white = near, as MiDaS/DPT disparity) at its own size,
    /// then the same resize and normalisation as an estimated map.</summary>
    public static float[] FromImage(RgbImage depthImage, int latentHeight, int latentWidth)
    {
        byte[] luma = ImageResizer.ToLuma(depthImage);
        var values = new float[luma.Length];
        for (int i = 0; i < luma.Length; i++)
        {
            values[i] = luma[i];
        }

        return ToLatent(values, depthImage.Height, depthImage.Width, latentHeight, latentWidth);
    }
}
