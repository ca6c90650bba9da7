using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using StableDiffusion.Core.Imaging;
using StableDiffusion.Server.Generation;

namespace StableDiffusion.Server.Tests;

public sealed class ImageInputTests
{
    /// <summary>ImageSource.Decode with a pixel limit; the client's message on failure, as the validator reports it.</summary>
    private static RgbImage? TryDecode(string value, int maxPixels, out string? error)
    {
        error = null;
        try
        {
            return ImageSource.Decode(value, "image", ImageLimits.Default with { MaxPixels = maxPixels }, uploads: null);
        }
        catch (ImageInputException e)
        {
            error = e.Detail;
            return null;
        }
    }

    private static string DataUri(int width, int height, Func<Image<Rgb24>, Action<Stream>> save, string mime)
    {
        using var image = new Image<Rgb24>(width, height, new Rgb24(10, 20, 30));
        using var stream = new MemoryStream();
        save(image)(stream);
        return $"data:{mime};base64,{Convert.ToBase64String(stream.ToArray())}";
    }

    [Fact]
    public void Png_data_uri_decodes_to_rgb_pixels()
    {
        var uri = DataUri(16, 8, i => s => i.SaveAsPng(s), "image/png");

        var image = TryDecode(uri, 1_000, out var error);

        Assert.Null(error);
        Assert.Equal((16, 8), (image!.Width, image.Height));
        Assert.Equal([10, 20, 30], image.Pixels[..3]);
    }

    [Fact]
    public void Too_many_pixels_are_refused_before_decoding()
    {
        var uri = DataUri(64, 64, i => s => i.SaveAsPng(s), "image/png");

        var image = TryDecode(uri, 4_095, out var error);

        Assert.Null(image);
        Assert.Contains("64x64", error);
    }

    [Fact]
    public void Gif_is_not_an_accepted_format()
    {
        var uri = DataUri(8, 8, i => s => i.SaveAsGif(s), "image/gif");

        Assert.Null(TryDecode(uri, 1_000, out var error));
        // The data URI's media type is checked before the bytes.
        Assert.Contains("'image/gif' is not accepted", error);
    }

    [Fact]
    public void Urls_are_not_fetched()
    {
        Assert.Null(TryDecode("http://169.254.169.254/latest", 1_000, out var error));
        Assert.Contains("not fetched", error);
    }

    [Fact]
    public void Malformed_base64_is_refused()
    {
        Assert.Null(TryDecode("data:image/png;base64,@@@", 1_000, out var error));
        Assert.Contains("not valid base64", error);
    }
}
