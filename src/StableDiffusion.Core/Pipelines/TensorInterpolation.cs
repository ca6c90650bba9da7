namespace StableDiffusion.Core.Pipelines;

/// <summary>PyTorch's <c>torch.nn.functional.interpolate</c> modes that the pipelines use, on one [H, W] plane.</summary>
public static class TensorInterpolation
{
    /// <summary>
    /// <c>mode="bicubic", align_corners=False</c> (diffusers' depth-map resize): source coordinate (d + ½)·in/out − ½,
    /// Keys' cubic convolution with A = −0.75 (PyTorch's constant, not OpenCV's −0.5 nor PIL's −0.5), indices clamped
    /// at the border. No antialiasing, as PyTorch's default.
    /// </summary>
    public static float[] Bicubic(ReadOnlySpan<float> source, int height, int width, int outHeight, int outWidth)
    {
        var result = new float[outHeight * outWidth];
        double scaleY = (double)height / outHeight, scaleX = (double)width / outWidth;
        Span<float> wy = stackalloc float[4];
        Span<float> wx = stackalloc float[4];
        for (int oy = 0; oy < outHeight; oy++)
        {
            float realY = (float)((oy + 0.5) * scaleY - 0.5);
            int y0 = (int)MathF.Floor(realY);
            CubicWeights(realY - y0, wy);
            for (int ox = 0; ox < outWidth; ox++)
            {
                float realX = (float)((ox + 0.5) * scaleX - 0.5);
                int x0 = (int)MathF.Floor(realX);
                CubicWeights(realX - x0, wx);
                float sum = 0;
                for (int i = 0; i < 4; i++)
                {
                    int sy = Math.Clamp(y0 - 1 + i, 0, height - 1);
                    float row = 0;
                    for (int j = 0; j < 4; j++)
                    {
                        int sx = Math.Clamp(x0 - 1 + j, 0, width - 1);
                        row += source[sy * width + sx] * wx[j];
                    }

                    sum += row * wy[i];
                }

                result[oy * outWidth + ox] = sum;
            }
        }

        return result;
    }

    // PyTorch's get_cubic_upsample_coefficients with A = -0.75.
    private static void CubicWeights(float t, Span<float> w)
    {
        const float a = -0.75f;
        float x1 = t + 1, x2 = t, x3 = 1 - t, x4 = 2 - t;
        w[0] = ((a * x1 - 5 * a) * x1 + 8 * a) * x1 - 4 * a;
        w[1] = ((a + 2) * x2 - (a + 3)) * x2 * x2 + 1;
        w[2] = ((a + 2) * x3 - (a + 3)) * x3 * x3 + 1;
        w[3] = ((a * x4 - 5 * a) * x4 + 8 * a) * x4 - 4 * a;
    }
}
