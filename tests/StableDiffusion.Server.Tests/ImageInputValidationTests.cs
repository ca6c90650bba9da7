using System.Net;
using System.Text.Json.Nodes;
using StableDiffusion.Server.Tests.Support;
using static StableDiffusion.Server.Tests.Support.TestImages;

namespace StableDiffusion.Server.Tests;

/// <summary>Hostile and mismatched image inputs: problem+json naming the field, before any job exists.</summary>
[Collection(ImageServerCollection.Name)]
public sealed class ImageInputValidationTests(ImageServerFixture server)
{
    private readonly HttpClient _client = server.Client;

    private static JsonObject WithImage(string field, string value, string? image = null)
    {
        var input = Wire.Input();
        input["image"] = image ?? DataUri(Png(64, 64));
        input[field] = value;
        return input;
    }

    [Fact]
    public async Task Decompression_bomb_header_is_422_on_its_field()
    {
        var errors = await ImageWire.ErrorsAsync(_client, "tiny", WithImage("image", DataUri(BombPng(100_000, 100_000))));

        Assert.Contains("100000x100000", errors.Text("image"));
    }

    [Fact]
    public async Task Truncated_png_is_422()
    {
        var png = Png(64, 64);

        var errors = await ImageWire.ErrorsAsync(_client, "tiny", WithImage("mask", DataUri(png[..(png.Length - 20)])));

        Assert.Contains("truncated", errors.Text("mask"));
    }

    [Fact]
    public async Task Gif_is_422_naming_the_format()
    {
        var errors = await ImageWire.ErrorsAsync(_client, "tiny", WithImage("image", DataUri(Gif(8, 8), "application/octet-stream")));

        Assert.Contains("GIF images are not accepted", errors.Text("image"));
    }

    [Fact]
    public async Task Image_over_the_byte_limit_is_413_naming_the_field()
    {
        var big = NoisePng(256, 256);
        Assert.True(big.Length > ImageServerFixture.MaxImageBytes);

        var errors = await ImageWire.ErrorsAsync(_client, "tiny", WithImage("image", DataUri(big)), HttpStatusCode.RequestEntityTooLarge);

        Assert.Contains($"{ImageServerFixture.MaxImageBytes} bytes", errors.Text("image"));
    }

    [Fact]
    public async Task Image_urls_are_not_fetched()
    {
        var input = Wire.Input();
        input["image"] = "http://169.254.169.254/latest/meta-data";

        var errors = await ImageWire.ErrorsAsync(_client, "tiny", input);

        Assert.Contains("not fetched", errors.Text("image"));
    }

    [Fact]
    public async Task Inpainting_model_requires_image_and_mask()
    {
        var errors = await ImageWire.ErrorsAsync(_client, "tiny-inpaint", Wire.Input());

        Assert.Contains("is required", errors.Text("image"));
        Assert.Contains("is required", errors.Text("mask"));
    }

    [Fact]
    public async Task Upscaler_requires_an_image_and_bounds_noise_level()
    {
        var missing = await ImageWire.ErrorsAsync(_client, "tiny-upscale", Wire.Input());
        var input = Wire.Input();
        input["image"] = DataUri(Png(16, 16));
        input["noise_level"] = 351;
        var noisy = await ImageWire.ErrorsAsync(_client, "tiny-upscale", input);

        Assert.Contains("upscaling", missing.Text("image"));
        Assert.Equal("must be between 0 and 350", noisy.Text("noise_level"));
    }

    [Fact]
    public async Task Depth_model_without_estimator_requires_a_depth_image()
    {
        var input = Wire.Input();
        input["image"] = DataUri(Png(64, 64));

        var errors = await ImageWire.ErrorsAsync(_client, "tiny-depth-no-estimator", input);

        Assert.Contains("depth_estimator", errors.Text("depth_image"));
    }

    [Theory]
    [InlineData("tiny", "depth_image", "cannot do depth-to-image; it offers text-to-image, image-to-image, inpainting")]
    [InlineData("tiny-upscale", "mask", "cannot do inpainting; it offers upscaling")]
    [InlineData("tiny-depth", "noise_level", "cannot do upscaling; it offers depth-to-image")]
    public async Task Asking_a_model_for_a_task_it_lacks_is_422_listing_what_it_offers(string model, string field, string message)
    {
        var input = Wire.Input();
        input["image"] = DataUri(Png(16, 16));
        input[field] = field == "noise_level" ? 20 : DataUri(Png(16, 16));

        var errors = await ImageWire.ErrorsAsync(_client, model, input);

        Assert.Contains(message, errors.Text(field));
    }

    [Fact]
    public async Task Upscaler_output_over_the_pixel_limit_is_refused()
    {
        // 4x 264 = 1056 per side: 1,115,136 pixels, over the default Limits:MaxPixels of 1,048,576.
        var input = Wire.Input();
        input["image"] = DataUri(Png(264, 264));

        var errors = await ImageWire.ErrorsAsync(_client, "tiny-upscale", input);

        Assert.Contains("1056x1056", errors.Text("image"));
    }
}
