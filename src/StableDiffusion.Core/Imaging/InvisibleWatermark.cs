namespace StableDiffusion.Core.Imaging;

/// <summary>
/// The <c>invisible-watermark</c> package's <c>dwtDct</c> method (0.2.0), bit-exact, as Stability's scripts apply it.
/// Images are RGB24, row-major, 3 bytes per pixel.
/// </summary>
public sealed class InvisibleWatermark
{
    public const string DefaultPayload = "SDV2";

    /// <summary>Upstream refuses images smaller than this in either dimension; they are returned unmarked.</summary>
    public const int MinimumSize = 256;

    public InvisibleWatermark(ReadOnlySpan<byte> payload) => throw new NotImplementedException();

    public static InvisibleWatermark FromText(string text) => throw new NotImplementedException();

    public int BitLength => throw new NotImplementedException();

    /// <summary>Marks the image in place; false (image untouched) when it is smaller than <see cref="MinimumSize"/>.</summary>
    public bool Embed(Span<byte> rgb, int width, int height) => throw new NotImplementedException();

    /// <summary>Reads <paramref name="bitLength"/> bits back (MSB first) and packs them into bytes.</summary>
    public static byte[] Decode(ReadOnlySpan<byte> rgb, int width, int height, int bitLength = 32) => throw new NotImplementedException();
}
