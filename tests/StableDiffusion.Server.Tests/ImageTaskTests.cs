using System.Text.Json.Nodes;
using StableDiffusion.Server.Tests.Support;
using static StableDiffusion.Server.Tests.Support.TestImages;

namespace StableDiffusion.Server.Tests;

/// <summary>Every image task through the native API, on real synthetic models (no pipeline mocks).</summary>
[Collection(ImageServerCollection.Name)]
public sealed class ImageTaskTests(ImageServerFixture server)
{
    private readonly HttpClient _client = server.Client;

    private static JsonObject Input(int steps = 4)
    {
        var input = Wire.Input(steps: steps);
        input.Remove("width");
        input.Remove("height");
        return input;
    }

    [Fact]
    public async Task Img2img_output_has_the_input_images_size_rounded_down_to_8()
    {
        var input = Input();
        input["image"] = DataUri(Png(70, 75));
        input["prompt_strength"] = 0.5;

        var done = await ImageWire.SucceededAsync(_client, "tiny", input);

        // diffusers' default size: the input's, rounded down to a multiple of 8.
        Assert.Equal((64, 72), SizeOf(await ImageWire.OutputAsync(_client, done)));
    }

    [Fact]
    public async Task Img2img_runs_strength_times_steps_denoising_steps()
    {
        var half = Input(steps: 4);
        half["image"] = DataUri(Png(64, 64));
        half["prompt_strength"] = 0.5;
        var none = half.DeepClone().AsObject();
        none["prompt_strength"] = 0.0;

        var halfDone = await ImageWire.SucceededAsync(_client, "tiny", half);
        var noneDone = await ImageWire.SucceededAsync(_client, "tiny", none);

        // Euler, 4 steps at strength 0.5: init = int(4 * 0.5) = 2 UNet calls (diffusers' img2img get_timesteps);
        // strength 0 runs none (the image is only encoded and decoded).
        Assert.Contains("Model: tiny, image-to-image, 64x64", halfDone.Logs());
        Assert.Contains("| 2/2", halfDone.Logs());
        Assert.DoesNotContain("| 3/", halfDone.Logs());
        Assert.DoesNotContain("| 1/", noneDone.Logs());
    }

    [Fact]
    public async Task Legacy_inpainting_on_a_4_channel_model_succeeds_with_image_and_mask()
    {
        var input = Input();
        input["image"] = DataUri(Png(64, 64));
        input["mask"] = DataUri(HalfWhitePng(64, 64));

        var done = await ImageWire.SucceededAsync(_client, "tiny", input);

        Assert.Equal((64, 64), SizeOf(await ImageWire.OutputAsync(_client, done)));
    }

    [Fact]
    public async Task Nine_channel_inpainting_model_inpaints()
    {
        var input = Input();
        input["image"] = DataUri(Png(72, 64));
        input["mask"] = DataUri(HalfWhitePng(72, 64));

        var done = await ImageWire.SucceededAsync(_client, "tiny-inpaint", input);

        Assert.Equal((72, 64), SizeOf(await ImageWire.OutputAsync(_client, done)));
    }

    [Fact]
    public async Task Upscaler_output_is_four_times_the_input()
    {
        var input = Input(steps: 2);
        input["image"] = DataUri(Png(24, 16));
        input["noise_level"] = 30;

        var done = await ImageWire.SucceededAsync(_client, "tiny-upscale", input);

        Assert.Equal((96, 64), SizeOf(await ImageWire.OutputAsync(_client, done)));
        Assert.Contains("Model: tiny-upscale, upscaling, 96x64", done.Logs());
    }

    [Fact]
    public async Task Depth_model_estimates_depth_when_no_depth_image_is_given()
    {
        var input = Input();
        input["image"] = DataUri(Png(64, 64));

        var done = await ImageWire.SucceededAsync(_client, "tiny-depth", input);

        Assert.Equal((64, 64), SizeOf(await ImageWire.OutputAsync(_client, done)));
    }

    [Fact]
    public async Task Depth_model_uses_a_given_depth_image()
    {
        var input = Input();
        input["image"] = DataUri(Png(64, 64));
        input["depth_image"] = DataUri(HalfWhitePng(64, 64));

        var done = await ImageWire.SucceededAsync(_client, "tiny-depth-no-estimator", input);

        Assert.Equal((64, 64), SizeOf(await ImageWire.OutputAsync(_client, done)));
    }

    [Fact]
    public async Task Flagged_outputs_are_black_and_the_logs_say_which()
    {
        var input = Wire.Input(steps: 2);
        input["num_outputs"] = 2;

        var done = await ImageWire.SucceededAsync(_client, "tiny-flagging", input);

        // Replicate's stable-diffusion logs the same for each flagged output.
        Assert.Contains("nsfw content detected in output 0: replaced by a black image", done.Logs());
        Assert.Contains("nsfw content detected in output 1: replaced by a black image", done.Logs());
        using var image = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.Rgb24>(await ImageWire.OutputAsync(_client, done, 1));
        var pixels = new SixLabors.ImageSharp.PixelFormats.Rgb24[image.Width * image.Height];
        image.CopyPixelDataTo(pixels);
        Assert.All(pixels, p => Assert.Equal(new SixLabors.ImageSharp.PixelFormats.Rgb24(0, 0, 0), p));
    }
}
