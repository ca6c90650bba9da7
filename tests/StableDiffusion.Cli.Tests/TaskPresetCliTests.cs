using System.Text.Json;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace StableDiffusion.Cli.Tests;

/// <summary>The inpainting, x4 upscaler and depth synthetic models, written once by <c>sd make-model</c>.</summary>
public sealed class TaskPresetsFixture
{
    public TaskPresetsFixture()
    {
        Root = CliRunner.TempDir();
        foreach (string preset in new[] { "tiny-inpaint", "tiny-upscale", "tiny-depth" })
        {
            var result = CliRunner.Run("make-model", "--preset", preset, "--out", Path.Combine(Root, preset));
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException($"make-model {preset} failed: {result.StdErr}");
            }
        }
    }

    public string Root { get; }

    public string Folder(string preset) => Path.Combine(Root, preset);
}

public sealed class TaskPresetCliTests(TaskPresetsFixture models) : IClassFixture<TaskPresetsFixture>
{
    [Fact]
    public void Upscale_writes_an_image_four_times_the_input()
    {
        string dir = CliRunner.TempDir();
        string input = WritePng(dir, "low.png", 32, 24);

        var result = CliRunner.Run("upscale", "--model", models.Folder("tiny-upscale"), "--image", input, "--steps", "3",
            "--noise-level", "30", "--seed", "4", "--out", Path.Combine(dir, "out"));

        Assert.True(result.ExitCode == 0, result.StdErr);
        var info = Image.Identify(Path.Combine(dir, "out", "0.png"));
        Assert.Equal((128, 96), (info.Width, info.Height));
        Assert.Contains("Noise level: 30", Core.Imaging.PngWriter.ReadParameters(File.ReadAllBytes(Path.Combine(dir, "out", "0.png"))), StringComparison.Ordinal);
    }

    [Fact]
    public void Upscale_noise_level_over_the_models_maximum_exits_2()
    {
        string dir = CliRunner.TempDir();
        string input = WritePng(dir, "low.png", 16, 16);

        var result = CliRunner.Run("upscale", "--model", models.Folder("tiny-upscale"), "--image", input, "--noise-level", "351", "--out", dir);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("noise_level must be between 0 and 350", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Depth_runs_with_the_estimator_and_with_a_depth_image()
    {
        string dir = CliRunner.TempDir();
        string input = WritePng(dir, "in.png", 64, 48);
        string depth = WritePng(dir, "depth.png", 32, 32);

        var estimated = CliRunner.Run("depth", "--model", models.Folder("tiny-depth"), "--image", input, "--steps", "4", "--out", Path.Combine(dir, "a"));
        var given = CliRunner.Run("depth", "--model", models.Folder("tiny-depth"), "--image", input, "--depth-image", depth, "--steps", "4", "--out", Path.Combine(dir, "b"));

        Assert.True(estimated.ExitCode == 0, estimated.StdErr);
        Assert.True(given.ExitCode == 0, given.StdErr);
        Assert.Equal((64, 48), (Image.Identify(Path.Combine(dir, "a", "0.png")).Width, Image.Identify(Path.Combine(dir, "a", "0.png")).Height));
    }

    [Fact]
    public void Inpaint_runs_on_the_nine_channel_model_and_img2img_is_refused()
    {
        string dir = CliRunner.TempDir();
        string input = WritePng(dir, "in.png", 64, 64);
        string mask = WritePng(dir, "mask.png", 64, 64);

        var inpaint = CliRunner.Run("inpaint", "--model", models.Folder("tiny-inpaint"), "--image", input, "--mask", mask, "--steps", "3", "--out", Path.Combine(dir, "out"));
        var img2img = CliRunner.Run("img2img", "--model", models.Folder("tiny-inpaint"), "--image", input, "--out", dir);

        Assert.True(inpaint.ExitCode == 0, inpaint.StdErr);
        using var json = JsonDocument.Parse(inpaint.StdOut.Trim());
        Assert.Equal(3, json.RootElement.GetProperty("steps").GetInt32());
        Assert.Equal(4, json.RootElement.GetProperty("unet_calls").GetInt32());   // PNDM, 3 steps, strength 1: 4 calls
        Assert.Equal(2, img2img.ExitCode);
        Assert.Contains("cannot do image-to-image", img2img.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Bench_measures_upscaling()
    {
        var result = CliRunner.Run("bench", "--model", models.Folder("tiny-upscale"), "--task", "upscale", "--steps", "2", "--width", "128", "--height", "128", "--runs", "1");

        Assert.True(result.ExitCode == 0, result.StdErr);
        using var json = JsonDocument.Parse(result.StdOut.Trim());
        Assert.Equal("Upscale", json.RootElement.GetProperty("task").GetString());
        Assert.Equal(128, json.RootElement.GetProperty("width").GetInt32());
    }

    private static string WritePng(string dir, string name, int width, int height)
    {
        using var image = new Image<Rgb24>(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                image[x, y] = x >= width / 2 ? new Rgb24(255, 255, 255) : new Rgb24((byte)(x * 4), (byte)(y * 4), 40);
            }
        }

        string path = Path.Combine(dir, name);
        image.SaveAsPng(path);
        return path;
    }
}
