namespace StableDiffusion.Core.Imaging;

/// <summary>NumPy's float64 → uint8 assignment (<c>uint8_array[...] = float64_array</c>, unsafe casting) on x86-64.</summary>
internal static class NumpyCast
{
    /// <summary>
    /// NumPy casts with a plain C <c>(npy_ubyte)value</c>, which GCC compiles to a truncating conversion to a 32-bit
    /// integer (cvttsd2si / cvttpd2dq) whose low byte is kept: truncation toward zero, then wrap-around modulo 256,
    /// no clipping. So -0.99 → 0, -1.0 → 255, -100.3 → 156, 255.9 → 255, 256.0 → 0, 300.7 → 44 (checked against
    /// NumPy 1.24 on x86-64). Beyond the int32 range cvttsd2si yields 0x80000000, i.e. 0; the watermark never gets near.
    /// In practice only the truncation bites: U from 8-bit BGR lies in 17..239 and one block edit moves a pixel by at
    /// most 27/2, so the marked U stays in [3.5, 252.5] and never wraps; the wrap is kept for fidelity, not exercised.
    /// </summary>
    public static byte ToUInt8(double value) => unchecked((byte)(int)value);
}
