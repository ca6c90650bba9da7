using StableDiffusion.Core.Imaging;

namespace StableDiffusion.Server.Generation;

/// <summary>Decodes an inline image input (data URI or raw base64) with Core's <see cref="ImageDecoder"/>; kept for
/// callers that want a message rather than an exception.</summary>
public static class ImageInput
{
    /// <summary>Decodes <paramref name="value"/>; on failure returns null and a message for the client.</summary>
    public static RgbImage? TryDecode(string value, int maxPixels, out string? error)
    {
        error = null;
        try
        {
            return ImageSource.Decode(value, "image", ImageLimits.Default with { MaxPixels = maxPixels }, store: null);
        }
        catch (ImageInputException e)
        {
            error = e.Detail;
            return null;
        }
    }
}
