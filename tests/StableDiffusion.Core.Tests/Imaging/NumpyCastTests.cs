using StableDiffusion.Core.Imaging;

namespace StableDiffusion.Core.Tests.Imaging;

public class NumpyCastTests
{
    // numpy 1.24.2 on x86-64: a = np.zeros(8, np.uint8); a[:] = [-1.0, -0.5, -0.99, 255.9, 256.0, 300.7, -100.3, -128.5]
    // gives [255, 0, 0, 255, 0, 44, 156, 128]: truncation toward zero, then the low byte (no clipping).
    [Theory]
    [InlineData(-1.0, 255)]
    [InlineData(-0.5, 0)]
    [InlineData(-0.99, 0)]
    [InlineData(255.9, 255)]
    [InlineData(256.0, 0)]
    [InlineData(300.7, 44)]
    [InlineData(-100.3, 156)]
    [InlineData(-128.5, 128)]
    [InlineData(7.999999999999984, 7)]
    public void Float64_to_uint8_truncates_and_wraps_like_numpy(double value, int expected)
    {
        Assert.Equal((byte)expected, NumpyCast.ToUInt8(value));
    }
}
