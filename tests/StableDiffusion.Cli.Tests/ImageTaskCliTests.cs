using System.Text.Json;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using StableDiffusion.Core.Imaging;

namespace StableDiffusion.Cli.Tests;

public sealed class ImageTaskCliTests(TinyModelFixture tiny) : IClassFixture<TinyModelFixture>
{
    [Fact]
    public void Img2img_writes_a_png_at_the_input_size_and_one_json_line()
    {
        string dir = CliRunner.TempDir();
        string input = WriteImage(dir, "in.png", 72, 40, new PngEncoder());

        var result = CliRunner.Run("img2img", "--model", tiny.Directory, "--image", input, "--prompt", "a lighthouse", "--steps", "10",
            "--prompt-strength", "0.5", "--seed", "3", "--out", Path.Combine(dir, "out"));

        Assert.True(result.ExitCode == 0, result.StdErr);
        using var json = JsonDocument.Parse(Assert.Single(result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        // PNDM, 10 steps, strength 0.5: diffusers runs timesteps[5:] of 11 calls = 6 calls; "steps" is what was asked.
        Assert.Equal(10, json.RootElement.GetProperty("steps").GetInt32());
        Assert.Equal(6, json.RootElement.GetProperty("unet_calls").GetInt32());
        byte[] png = File.ReadAllBytes(Path.Combine(dir, "out", "0.png"));
        var info = Image.Identify(png);
        Assert.Equal((72, 40), (info.Width, info.Height));
        Assert.Contains("Denoising strength: 0.5", PngWriter.ReadParameters(png), StringComparison.Ordinal);
    }

    [Fact]
    public void Inpaint_runs_legacy_inpainting_on_a_four_channel_model()
    {
        string dir = CliRunner.TempDir();
        string input = WriteImage(dir, "in.png", 64, 64, new PngEncoder());
        string mask = WriteImage(dir, "mask.png", 64, 64, new PngEncoder(), white: true);

        var result = CliRunner.Run("inpaint", "--model", tiny.Directory, "--image", input, "--mask", mask, "--steps", "3",
            "--seed", "1", "--out", Path.Combine(dir, "out"));

        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.True(File.Exists(Path.Combine(dir, "out", "0.png")));
    }

    [Fact]
    public void Missing_image_file_exits_2_with_one_line()
    {
        var result = CliRunner.Run("img2img", "--model", tiny.Directory, "--image", "/nonexistent.png", "--out", CliRunner.TempDir());

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("sd: error: --image: file '/nonexistent.png' does not exist", result.StdErr.Trim());
    }

    [Fact]
    public void Gif_input_exits_2_naming_the_format()
    {
        string dir = CliRunner.TempDir();
        string gif = WriteImage(dir, "in.gif", 16, 16, new GifEncoder());

        var result = CliRunner.Run("img2img", "--model", tiny.Directory, "--image", gif, "--out", dir);

        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--image: GIF images are not accepted", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_mask_exits_2()
    {
        string dir = CliRunner.TempDir();
        string input = WriteImage(dir, "in.png", 64, 64, new PngEncoder());
        string mask = WriteImage(dir, "mask.png", 64, 64, new PngEncoder(), white: true);
        File.WriteAllBytes(mask, File.ReadAllBytes(mask)[..40]);

        var result = CliRunner.Run("inpaint", "--model", tiny.Directory, "--image", input, "--mask", mask, "--out", dir);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--mask: the PNG is truncated", result.StdErr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("-0.1")]
    public void Prompt_strength_outside_0_1_exits_2(string strength)
    {
        string dir = CliRunner.TempDir();
        string input = WriteImage(dir, "in.png", 16, 16, new PngEncoder());

        var result = CliRunner.Run("img2img", "--model", tiny.Directory, "--image", input, "--prompt-strength", strength, "--out", dir);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--prompt-strength must be between 0 and 1", result.StdErr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("upscale", "cannot do upscaling")]
    [InlineData("depth", "cannot do depth-to-image")]
    public void Task_the_model_cannot_do_exits_2_with_one_line(string verb, string expected)
    {
        string dir = CliRunner.TempDir();
        string input = WriteImage(dir, "in.png", 16, 16, new PngEncoder());

        var result = CliRunner.Run(verb, "--model", tiny.Directory, "--image", input, "--out", dir);

        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.StdErr.Split("\n", StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("sd: error", StringComparison.Ordinal));
        Assert.Contains(expected, result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Inpaint_without_mask_exits_2()
    {
        string dir = CliRunner.TempDir();
        string input = WriteImage(dir, "in.png", 16, 16, new PngEncoder());

        var result = CliRunner.Run("inpaint", "--model", tiny.Directory, "--image", input, "--out", dir);

        Assert.Equal(2, result.ExitCode);
    }

    [Fact]
    public void Safety_checker_flag_on_a_model_without_one_fails_naming_the_file()
    {
        string dir = CliRunner.TempDir();
        string input = WriteImage(dir, "in.png", 16, 16, new PngEncoder());

        var result = CliRunner.Run("img2img", "--model", tiny.Directory, "--image", input, "--safety-checker", "--out", dir);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("safety_checker/model.onnx", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Bench_measures_an_image_task()
    {
        var result = CliRunner.Run("bench", "--model", tiny.Directory, "--task", "img2img", "--steps", "4", "--width", "64", "--height", "64", "--runs", "1");

        Assert.True(result.ExitCode == 0, result.StdErr);
        using var json = JsonDocument.Parse(result.StdOut.Trim());
        Assert.Equal("ImageToImage", json.RootElement.GetProperty("task").GetString());
        Assert.Equal(64, json.RootElement.GetProperty("width").GetInt32());
    }

    internal static string WriteImage(string dir, string name, int width, int height, SixLabors.ImageSharp.Formats.IImageEncoder encoder, bool white = false)
    {
        using var image = new Image<Rgb24>(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                image[x, y] = white && x >= width / 2 ? new Rgb24(255, 255, 255) : new Rgb24((byte)(x * 3), (byte)(y * 3), 90);
            }
        }

        string path = Path.Combine(dir, name);
        image.Save(path, encoder);
        return path;
    }
}
