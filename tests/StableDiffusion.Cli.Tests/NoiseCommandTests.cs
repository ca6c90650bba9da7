using System.Text.Json;
using StableDiffusion.Cli;

namespace StableDiffusion.Cli.Tests;

public sealed class NoiseCommandTests
{
    [Fact]
    public void Noise_writes_consecutive_draws_of_one_generator_as_npy_files()
    {
        string dir = CliRunner.TempDir();

        var result = CliRunner.Run("noise", "--rng", "cpu", "--seed", "0", "--shape", "3", "--shape", "2,4,2", "--out", dir);

        Assert.Equal(0, result.ExitCode);
        var (first, firstShape) = NpyFile.ReadFloat32(Path.Combine(dir, "0.npy"), 1000);
        var (second, secondShape) = NpyFile.ReadFloat32(Path.Combine(dir, "1.npy"), 1000);
        Assert.Equal([3], firstShape);
        Assert.Equal([2, 4, 2], secondShape);
        // g = torch.Generator("cpu").manual_seed(0); torch.randn(3, generator=g); torch.randn(2, 4, 2, generator=g)
        Assert.Equal([1.5409960746765137f, -0.293428897857666f, -2.1787893772125244f], first);
        Assert.Equal(-0.35612836480140686f, second[0]);
        Assert.Equal(-0.8594456315040588f, second[15]);
        using var json = JsonDocument.Parse(result.StdOut);
        Assert.Equal(2, json.RootElement.GetProperty("files").GetArrayLength());
    }

    [Theory]
    // np.random.RandomState(0).randn(3)
    [InlineData("numpy", "0", 1.764052391052246f)]
    // A1111 rng_philox.Generator(0).randn((3, 4))[0, 0]
    [InlineData("nv", "0", -0.9246624112129211f)]
    // torch.Generator("cpu").manual_seed(2**64 - 1) draws as seed 2**32 - 1 (init_genrand keeps the low 32 bits)
    [InlineData("cpu", "18446744073709551615", float.NaN)]
    public void Noise_takes_each_source_and_the_full_seed_range(string rng, string seed, float firstValue)
    {
        string dir = CliRunner.TempDir();

        var result = CliRunner.Run("noise", "--rng", rng, "--seed", seed, "--shape", "3", "--out", dir);

        Assert.Equal(0, result.ExitCode);
        var (values, _) = NpyFile.ReadFloat32(Path.Combine(dir, "0.npy"), 10);
        if (!float.IsNaN(firstValue))
        {
            Assert.Equal(firstValue, values[0]);
        }
        else
        {
            string low = CliRunner.TempDir();
            Assert.Equal(0, CliRunner.Run("noise", "--rng", rng, "--seed", "4294967295", "--shape", "3", "--out", low).ExitCode);
            Assert.Equal(NpyFile.ReadFloat32(Path.Combine(low, "0.npy"), 10).Data, values);
        }
    }

    [Theory]
    [InlineData("--rng", "numpy", "--seed", "4294967296")]
    [InlineData("--rng", "mersenne", "--seed", "1")]
    [InlineData("--rng", "cpu", "--seed", "-1")]
    [InlineData("--rng", "cpu", "--seed", "18446744073709551616")]
    public void Noise_refuses_bad_sources_and_seeds(params string[] args)
    {
        var result = CliRunner.Run(["noise", .. args, "--shape", "3", "--out", CliRunner.TempDir()]);

        Assert.NotEqual(0, result.ExitCode);
    }

    [Fact]
    public void Noise_refuses_an_oversized_shape()
    {
        var result = CliRunner.Run("noise", "--seed", "1", "--shape", "1024,1024,1024", "--out", CliRunner.TempDir());

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("elements", result.StdErr);
    }
}
