using StableDiffusion.Core.Imaging;
using StableDiffusion.Core.Pipelines;

namespace StableDiffusion.Core.Tests.Pipelines;

public sealed class DepthMapTests
{
    [Fact]
    public void Bicubic_matches_pytorch_align_corners_false()
    {
        // F.interpolate([[0, 1]], size=4, mode="bicubic", align_corners=False) along one axis, from PyTorch's formula
        // (A = −0.75, source = (d + ½)·in/out − ½, clamped taps), worked by hand:
        // d=0: t=0.75 taps [0,0,0,1] → −0.10546875; d=1: t=0.25 taps [0,0,1,1] → 0.2265625; symmetric for d=2, 3.
        float[] source = [0, 1, 0, 1];   // 2 rows × 2 columns: each row is [0, 1]

        float[] result = TensorInterpolation.Bicubic(source, 2, 2, 1, 4);

        Assert.Equal(-0.10546875f, result[0], 1e-6f);
        Assert.Equal(0.2265625f, result[1], 1e-6f);
        Assert.Equal(0.7734375f, result[2], 1e-6f);
        Assert.Equal(1.10546875f, result[3], 1e-6f);
    }

    [Fact]
    public void Bicubic_to_the_same_size_is_the_identity()
    {
        float[] source = [.. Enumerable.Range(0, 12).Select(i => (float)(i * i % 7))];

        Assert.Equal(source, TensorInterpolation.Bicubic(source, 3, 4, 3, 4));
    }

    [Fact]
    public void Depth_is_normalised_to_exactly_minus_one_to_one_per_image()
    {
        var depth = new float[32 * 32];
        for (int i = 0; i < depth.Length; i++)
        {
            depth[i] = 3f + (i % 32) * 0.5f + (i / 32) * 0.25f;
        }

        float[] latent = DepthMap.ToLatent(depth, 32, 32, 8, 8);

        Assert.Equal(64, latent.Length);
        Assert.Equal(-1f, latent.Min(), 1e-6f);
        Assert.Equal(1f, latent.Max(), 1e-6f);
        // Monotone input stays monotone along a row.
        Assert.True(latent[0] < latent[7]);
    }

    [Fact]
    public void Flat_depth_gives_zeros_not_nan()
    {
        float[] latent = DepthMap.ToLatent(Enumerable.Repeat(5f, 64).ToArray(), 8, 8, 2, 2);

        Assert.Equal([0f, 0f, 0f, 0f], latent);
    }

    [Fact]
    public void Depth_image_uses_its_grey_values_white_nearest()
    {
        // Left half black, right half white → after normalisation the left latent column is −1, the right +1.
        var image = InpaintTests.HalfMask(64, 64);

        float[] latent = DepthMap.FromImage(image, 8, 8);

        Assert.Equal(-1f, latent[0], 1e-5f);
        Assert.Equal(1f, latent[7], 1e-5f);
    }
}
