using StableDiffusion.Core.Imaging;

namespace StableDiffusion.Server.Generation;

/// <summary>Names and MIME types of <see cref="OutputFormat"/> as they appear on the wire.</summary>
internal static class OutputFormats
{
    public static readonly IReadOnlyList<string> Names = ["png", "webp", "jpg"];

    public static bool TryParse(string name, out OutputFormat format)
    {
        switch (name.ToLowerInvariant())
        {
            case "png": format = OutputFormat.Png; return true;
            case "webp": format = OutputFormat.Webp; return true;
            case "jpg" or "jpeg": format = OutputFormat.Jpg; return true;
            default: format = default; return false;
        }
    }

    public static string ContentType(this OutputFormat format) => format switch
    {
        OutputFormat.Webp => "image/webp",
        OutputFormat.Jpg => "image/jpeg",
        _ => "image/png",
    };

    public static string Extension(this OutputFormat format) => format switch
    {
        OutputFormat.Webp => "webp",
        OutputFormat.Jpg => "jpg",
        _ => "png",
    };
}
