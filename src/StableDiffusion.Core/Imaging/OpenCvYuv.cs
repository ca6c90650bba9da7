namespace StableDiffusion.Core.Imaging;

/// <summary>
/// OpenCV's 8-bit <c>COLOR_BGR2YUV</c> / <c>COLOR_YUV2BGR</c>, bit-exact: the 14-bit fixed-point integer path of
/// <c>modules/imgproc/src/color_yuv.simd.hpp</c> (<c>RGB2YCrCb_i&lt;uchar&gt;</c>, <c>YCrCb2RGB_i&lt;uchar&gt;</c>; the SIMD
/// branches compute the same integers, and the IPP branches are compiled out by <c>IPP_DISABLE_RGB_YUV</c>/<c>IPP_DISABLE_YUV_RGB</c>).
/// </summary>
internal static class OpenCvYuv
{
    // color.hpp: yuv_shift and the BT.601 luma weights scaled by 2^14.
    private const int Shift = 14;
    private const int Round = 1 << (Shift - 1);
    private const int R2Y = 4899, G2Y = 9617, B2Y = 1868;

    // color_yuv.simd.hpp: B2UI = 0.492*2^14, R2VI = 0.877*2^14; U2BI = 2.032*2^14, U2GI = -0.395*2^14, V2GI = -0.581*2^14, V2RI = 1.140*2^14.
    private const int B2U = 8061, R2V = 14369;
    private const int U2B = 33292, U2G = -6472, V2G = -9519, V2R = 18678;

    // ColorChannel<uchar>::half() << yuv_shift
    private const int Delta = 128 << Shift;

    /// <summary>Y of one pixel; never leaves 0..255, so OpenCV's saturate_cast is a no-op here.</summary>
    public static int Luma(int r, int g, int b) => (b * B2Y + g * G2Y + r * R2Y + Round) >> Shift;

    /// <summary>U (OpenCV's Cb for YUV): CV_DESCALE((B - Y)·B2UI + 128·2^14, 14), saturated to a byte.</summary>
    public static int U(int b, int y) => Saturate(((b - y) * B2U + Delta + Round) >> Shift);

    /// <summary>V (OpenCV's Cr for YUV): CV_DESCALE((R - Y)·R2VI + 128·2^14, 14), saturated to a byte.</summary>
    public static int V(int r, int y) => Saturate(((r - y) * R2V + Delta + Round) >> Shift);

    /// <summary>COLOR_YUV2BGR for one pixel; CV_DESCALE is an arithmetic (floor) shift, results saturate to 0..255.</summary>
    public static void ToRgb(int y, int u, int v, out byte r, out byte g, out byte b)
    {
        int du = u - 128, dv = v - 128;
        b = (byte)Saturate(y + ((du * U2B + Round) >> Shift));
        g = (byte)Saturate(y + ((du * U2G + dv * V2G + Round) >> Shift));
        r = (byte)Saturate(y + ((dv * V2R + Round) >> Shift));
    }

    private static int Saturate(int value) => value < 0 ? 0 : value > 255 ? 255 : value;
}
