using StableDiffusion.Core.Imaging;

namespace StableDiffusion.Core.Tests.Imaging;

/// <summary>Expected values printed by cv2.cvtColor (OpenCV 4.6.0, uint8) for single pixels.</summary>
public class OpenCvYuvTests
{
    [Theory]
    [InlineData(255, 0, 0, 76, 91, 255)]
    [InlineData(0, 0, 255, 29, 239, 103)]
    [InlineData(0, 255, 0, 150, 54, 0)]
    [InlineData(255, 255, 0, 226, 17, 153)]
    [InlineData(0, 0, 0, 0, 128, 128)]
    [InlineData(255, 255, 255, 255, 128, 128)]
    [InlineData(12, 200, 77, 130, 102, 25)]
    [InlineData(250, 3, 140, 92, 152, 255)]
    public void Bgr_to_yuv_matches_opencv_fixed_point(int r, int g, int b, int y, int u, int v)
    {
        int luma = OpenCvYuv.Luma(r, g, b);

        Assert.Equal((y, u, v), (luma, OpenCvYuv.U(b, luma), OpenCvYuv.V(r, luma)));
    }

    [Theory]
    [InlineData(128, 128, 128, 128, 128, 128)]
    [InlineData(29, 239, 107, 5, 0, 255)]
    [InlineData(200, 20, 240, 255, 178, 0)]
    [InlineData(10, 250, 5, 0, 33, 255)]
    [InlineData(128, 139, 128, 128, 124, 150)]
    [InlineData(255, 255, 255, 255, 131, 255)]
    [InlineData(0, 0, 0, 0, 125, 0)]
    public void Yuv_to_bgr_matches_opencv_fixed_point_with_saturation(int y, int u, int v, int r, int g, int b)
    {
        OpenCvYuv.ToRgb(y, u, v, out byte red, out byte green, out byte blue);

        Assert.Equal(((byte)r, (byte)g, (byte)b), (red, green, blue));
    }
}
