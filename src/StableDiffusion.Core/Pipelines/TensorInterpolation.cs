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

    /// <summary>
    /// <c>F.interpolate</c> of every [H, W] plane of <paramref name="source"/> (planes × height × width) in one of the
    /// modes A1111's latent upscalers use (shared.latent_upscale_modes). Separable: a weight table per axis, applied
    /// along x then along y.
    /// </summary>
    public static float[] Resize(ReadOnlySpan<float> source, int planes, int height, int width, int outHeight, int outWidth, InterpolationMode mode)
    {
        var columns = Taps(width, outWidth, mode);
        var rows = Taps(height, outHeight, mode);
        var wide = new float[height * outWidth];
        var result = new float[planes * outHeight * outWidth];
        for (int p = 0; p < planes; p++)
        {
            // Along x: each of the `height` rows of the plane into a row of `wide`; then along y: each of the
            // `outWidth` columns of `wide` into a column of the output.
            Pass(source.Slice(p * height * width, height * width), wide, columns, height, width, 1, outWidth, 1);
            Pass(wide, result.AsSpan(p * outHeight * outWidth, outHeight * outWidth), rows, outWidth, 1, outWidth, 1, outWidth);
        }

        return result;
    }

    /// <summary>One axis of a separable resize: for each of <paramref name="lines"/> lines and each output index o,
    /// output[line·outLine + o·outStep] = Σ weight · input[line·inLine + index·inStep] over o's taps.</summary>
    private static void Pass(ReadOnlySpan<float> input, Span<float> output, (int Index, float Weight)[][] taps, int lines,
        int inLine, int inStep, int outLine, int outStep)
    {
        for (int line = 0; line < lines; line++)
        {
            for (int o = 0; o < taps.Length; o++)
            {
                float sum = 0;
                foreach (var (index, weight) in taps[o])
                {
                    sum += input[line * inLine + index * inStep] * weight;
                }

                output[line * outLine + o * outStep] = sum;
            }
        }
    }

    /// <summary>The source indices and weights of each output index along one axis (scale = in / out, as PyTorch's
    /// area_pixel_compute_scale without align_corners).</summary>
    private static (int Index, float Weight)[][] Taps(int size, int outSize, InterpolationMode mode)
    {
        double scale = (double)size / outSize;
        var taps = new (int, float)[outSize][];
        Span<float> w = stackalloc float[4];
        for (int o = 0; o < outSize; o++)
        {
            switch (mode)
            {
                case InterpolationMode.Nearest:
                    taps[o] = [(Math.Min((int)Math.Floor(o * (float)scale), size - 1), 1f)];
                    break;
                case InterpolationMode.NearestExact:
                    taps[o] = [(Math.Min((int)Math.Floor((o + 0.5) * scale), size - 1), 1f)];
                    break;
                case InterpolationMode.Bilinear:
                {
                    // upsample_bilinear2d: the source coordinate clamped at 0, the upper neighbour at the edge.
                    float real = MathF.Max((float)((o + 0.5) * scale - 0.5), 0f);
                    int i0 = Math.Min((int)real, size - 1);
                    float lambda = real - i0;
                    taps[o] = [(i0, 1f - lambda), (Math.Min(i0 + 1, size - 1), lambda)];
                    break;
                }

                case InterpolationMode.Bicubic:
                {
                    float real = (float)((o + 0.5) * scale - 0.5);
                    int i0 = (int)MathF.Floor(real);
                    CubicWeights(real - i0, w);
                    taps[o] = [(Math.Clamp(i0 - 1, 0, size - 1), w[0]), (Math.Clamp(i0, 0, size - 1), w[1]),
                        (Math.Clamp(i0 + 1, 0, size - 1), w[2]), (Math.Clamp(i0 + 2, 0, size - 1), w[3])];
                    break;
                }

                default:
                    taps[o] = AntialiasTaps(o, size, scale, mode == InterpolationMode.BicubicAntialiased);
                    break;
            }
        }

        return taps;
    }

    /// <summary>PyTorch's <c>_upsample_*2d_aa</c> (PIL's resampling): the filter stretched by the downscale factor,
    /// taps inside the image only, weights normalised; the cubic filter there uses A = −0.5 (PIL's), not −0.75.</summary>
    private static (int Index, float Weight)[] AntialiasTaps(int o, int size, double scale, bool cubic)
    {
        double support = (cubic ? 2.0 : 1.0) * Math.Max(scale, 1.0);
        double invScale = 1.0 / Math.Max(scale, 1.0);
        double center = scale * (o + 0.5);
        int min = Math.Max((int)(center - support + 0.5), 0);
        int max = Math.Min((int)(center + support + 0.5), size);
        var taps = new (int, float)[Math.Max(max - min, 0)];
        double total = 0;
        var weights = new double[taps.Length];
        for (int j = 0; j < taps.Length; j++)
        {
            double x = Math.Abs((j + min - center + 0.5) * invScale);
            weights[j] = cubic
                ? x < 1 ? ((-0.5 + 2) * x - (-0.5 + 3)) * x * x + 1 : x < 2 ? (((x - 5) * x + 8) * x - 4) * -0.5 : 0
                : Math.Max(1 - x, 0);
            total += weights[j];
        }

        for (int j = 0; j < taps.Length; j++)
        {
            taps[j] = (j + min, (float)(total == 0 ? 0 : weights[j] / total));
        }

        return taps;
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

/// <summary>The <c>F.interpolate</c> modes of A1111's latent upscalers.</summary>
public enum InterpolationMode
{
    /// <summary>"Latent": bilinear, no antialiasing.</summary>
    Bilinear,
    /// <summary>"Latent (antialiased)".</summary>
    BilinearAntialiased,
    /// <summary>"Latent (bicubic)".</summary>
    Bicubic,
    /// <summary>"Latent (bicubic antialiased)".</summary>
    BicubicAntialiased,
    /// <summary>"Latent (nearest)": PyTorch's legacy nearest, floor(o · in/out).</summary>
    Nearest,
    /// <summary>"Latent (nearest-exact)": floor((o + ½) · in/out).</summary>
    NearestExact,
}
