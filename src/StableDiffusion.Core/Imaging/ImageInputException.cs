namespace StableDiffusion.Core.Imaging;

/// <summary>
/// An image input that cannot be used (bad data URI, unsupported format, over a limit, truncated or corrupt). The
/// message is meant for the client and names <see cref="Field"/>; <see cref="StatusHint"/> is the HTTP status the edge
/// should answer with (400, or 413 when the payload itself is too large).
/// </summary>
public sealed class ImageInputException : Exception
{
    public ImageInputException(string field, string message, int statusHint = 400, Exception? inner = null)
        : base($"{field}: {message}", inner)
    {
        Field = field;
        Detail = message;
        StatusHint = statusHint;
    }

    /// <summary>The request field the image came from (<c>image</c>, <c>mask</c>, <c>--depth-image</c> …).</summary>
    public string Field { get; }

    /// <summary>The message without the field prefix (for per-field problem details).</summary>
    public string Detail { get; }

    /// <summary>400 for an invalid image, 413 when its bytes are over the limit.</summary>
    public int StatusHint { get; }
}
