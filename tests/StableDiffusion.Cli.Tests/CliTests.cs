using System.Text.Json;
using SixLabors.ImageSharp;
using StableDiffusion.Cli;
using StableDiffusion.Core.Imaging;

namespace StableDiffusion.Cli.Tests;

public sealed class TinyModelFixture
{
    public TinyModelFixture()
    {
        Directory = Path.Combine(CliRunner.TempDir(), "tiny");
        var result = CliRunner.Run("make-model", "--preset", "tiny", "--out", Directory);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"make-model failed: {result.StdErr}");
        }

        MakeModelOutput = result.StdOut;
    }

    public string Directory { get; }
    public string MakeModelOutput { get; }
}

public sealed class CliTests(TinyModelFixture tiny) : IClassFixture<TinyModelFixture>
{
    [Fact]
    public void Make_model_writes_a_complete_tiny_folder_under_2_MB()
    {
        using var json = JsonDocument.Parse(tiny.MakeModelOutput);

        Assert.Equal("tiny", json.RootElement.GetProperty("preset").GetString());
        Assert.InRange(json.RootElement.GetProperty("bytes").GetInt64(), 1, 2 * 1024 * 1024);
        foreach (string file in new[] { "model_index.json", "scheduler/scheduler_config.json", "tokenizer/vocab.json", "tokenizer/merges.txt",
                     "tokenizer/special_tokens_map.json", "tokenizer/tokenizer_config.json", "text_encoder/model.onnx", "unet/model.onnx",
                     "vae_decoder/model.onnx", "vae_decoder/config.json", "vae_encoder/model.onnx", "vae_encoder/config.json" })
        {
            Assert.True(File.Exists(Path.Combine(tiny.Directory, file)), file);
        }
    }

    [Fact]
    public void Generate_writes_pngs_with_metadata_and_one_json_line()
    {
        string outDir = CliRunner.TempDir();

        var result = CliRunner.Run("generate", "--model", tiny.Directory, "--prompt", "a red fox", "--steps", "3",
            "--width", "64", "--height", "96", "--seed", "7", "--num-outputs", "2", "--out", outDir);

        Assert.Equal(0, result.ExitCode);
        string line = Assert.Single(result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var json = JsonDocument.Parse(line);
        Assert.Equal([7L, 8L], json.RootElement.GetProperty("seeds").EnumerateArray().Select(e => e.GetInt64()));
        Assert.True(json.RootElement.GetProperty("timings").GetProperty("denoise").GetDouble() > 0);
        for (int k = 0; k < 2; k++)
        {
            byte[] png = File.ReadAllBytes(Path.Combine(outDir, $"{k}.png"));
            var info = Image.Identify(png);
            Assert.Equal((64, 96), (info.Width, info.Height));
            Assert.Contains($"Seed: {7 + k}, Size: 64x96", PngWriter.ReadParameters(png), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Generate_is_deterministic_across_processes()
    {
        string a = CliRunner.TempDir(), b = CliRunner.TempDir();
        string[] args = ["generate", "--model", tiny.Directory, "--prompt", "a red fox", "--steps", "3", "--width", "64", "--height", "64", "--seed", "11"];

        Assert.Equal(0, CliRunner.Run([.. args, "--out", a]).ExitCode);
        Assert.Equal(0, CliRunner.Run([.. args, "--out", b]).ExitCode);

        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "0.png")), File.ReadAllBytes(Path.Combine(b, "0.png")));
    }

    [Fact]
    public void Latents_from_npy_are_used_as_diffusers_latents()
    {
        string dir = CliRunner.TempDir();
        var latents = new float[4 * 8 * 8];
        new Core.Randomness.TorchCpuGenerator(5).Fill(latents);
        string npy = Path.Combine(dir, "latents.npy");
        NpyFile.WriteFloat32(npy, latents, [1, 4, 8, 8]);
        string[] common = ["generate", "--model", tiny.Directory, "--prompt", "x", "--steps", "2", "--width", "64", "--height", "64", "--no-watermark"];

        Assert.Equal(0, CliRunner.Run([.. common, "--seed", "5", "--out", Path.Combine(dir, "seeded")]).ExitCode);
        Assert.Equal(0, CliRunner.Run([.. common, "--seed", "5", "--latents", npy, "--out", Path.Combine(dir, "given")]).ExitCode);

        Assert.Equal(File.ReadAllBytes(Path.Combine(dir, "seeded", "0.png")), File.ReadAllBytes(Path.Combine(dir, "given", "0.png")));
    }

    [Fact]
    public void Latents_with_the_wrong_shape_are_a_usage_error()
    {
        string dir = CliRunner.TempDir();
        string npy = Path.Combine(dir, "latents.npy");
        NpyFile.WriteFloat32(npy, new float[4 * 4 * 4], [1, 4, 4, 4]);

        var result = CliRunner.Run("generate", "--model", tiny.Directory, "--width", "64", "--height", "64", "--latents", npy, "--out", dir);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--latents", result.StdErr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--steps", "0")]
    [InlineData("--width", "65")]
    [InlineData("--scheduler", "NOPE")]
    [InlineData("--num-outputs", "99")]
    [InlineData("--steps", "many")]
    public void Bad_arguments_exit_with_2_and_one_line(string option, string value)
    {
        var result = CliRunner.Run("generate", "--model", tiny.Directory, option, value, "--out", CliRunner.TempDir());

        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("sd: error:", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_required_option_exits_with_2()
    {
        var result = CliRunner.Run("generate", "--prompt", "x");

        Assert.Equal(2, result.ExitCode);
    }

    [Fact]
    public void Tokenize_prints_77_ids()
    {
        var result = CliRunner.Run("tokenize", "--model", tiny.Directory, "a photo");

        Assert.Equal(0, result.ExitCode);
        var ids = JsonSerializer.Deserialize<int[]>(result.StdOut)!;
        Assert.Equal(77, ids.Length);
        Assert.Equal(0, ids[^1]); // tiny pads with "!", id 0, as SD 2 does
    }

    [Fact]
    public void Bench_reports_speed_overhead_and_memory()
    {
        var result = CliRunner.Run("bench", "--model", tiny.Directory, "--steps", "2", "--width", "64", "--height", "64", "--runs", "1");

        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.StdOut);
        var root = json.RootElement;
        Assert.True(root.GetProperty("seconds_per_step").GetDouble() > 0);
        Assert.True(root.GetProperty("seconds_per_image").GetDouble() > 0);
        Assert.InRange(root.GetProperty("pipeline_overhead_share").GetDouble(), 0, 1);
        Assert.True(root.GetProperty("peak_working_set_mb").GetDouble() > 10);
    }

    [Fact]
    public void Watermark_decode_refuses_a_file_that_is_not_an_image()
    {
        string path = Path.Combine(CliRunner.TempDir(), "not-an-image.png");
        File.WriteAllBytes(path, "GIF89a not really"u8.ToArray());

        var result = CliRunner.Run("watermark", "decode", path);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("sd: error: file:", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Watermark_decode_reads_what_generate_embedded()
    {
        string outDir = CliRunner.TempDir();
        Assert.Equal(0, CliRunner.Run("generate", "--model", tiny.Directory, "--steps", "1", "--width", "256", "--height", "256", "--out", outDir).ExitCode);

        var result = CliRunner.Run("watermark", "decode", Path.Combine(outDir, "0.png"));

        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.StdOut);
        Assert.Equal("SDV2", json.RootElement.GetProperty("text").GetString());
    }

    [Fact]
    public void Generate_takes_rng_batch_noise_and_eta()
    {
        string dir = CliRunner.TempDir();
        string[] common = ["generate", "--model", tiny.Directory, "--prompt", "x", "--steps", "2", "--width", "64", "--height", "64", "--no-watermark",
            "--seed", "5", "--scheduler", "DDIM"];

        var nv = CliRunner.Run([.. common, "--rng", "nv", "--eta", "0.5", "--batch-noise", "one-generator", "--out", Path.Combine(dir, "nv")]);
        var cpu = CliRunner.Run([.. common, "--rng", "cpu", "--eta", "0.5", "--out", Path.Combine(dir, "cpu")]);

        Assert.Equal(0, nv.ExitCode);
        Assert.Equal(0, cpu.ExitCode);
        using var json = JsonDocument.Parse(nv.StdOut);
        Assert.Equal("nv", json.RootElement.GetProperty("rng").GetString());
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(dir, "nv", "0.png")), File.ReadAllBytes(Path.Combine(dir, "cpu", "0.png")));
    }

    [Theory]
    [InlineData("--rng", "mersenne")]
    [InlineData("--eta", "1.5")]
    [InlineData("--batch-noise", "shared")]
    [InlineData("--sigma-schedule", "polyexponential")]
    public void Generate_refuses_bad_noise_options(string option, string value)
    {
        var result = CliRunner.Run("generate", "--model", tiny.Directory, "--prompt", "x", option, value, "--out", CliRunner.TempDir());

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(option, result.StdErr);
    }
}
