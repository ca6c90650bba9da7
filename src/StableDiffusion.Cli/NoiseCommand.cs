using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using StableDiffusion.Core.Randomness;

namespace StableDiffusion.Cli;

/// <summary><c>sd noise --rng SOURCE --seed S --shape N,C,H,W [--shape …] --out DIR</c>: consecutive draws from one
/// generator into DIR/0.npy, DIR/1.npy, … — to compare a source with torch/numpy in one command.</summary>
public static class NoiseCommand
{
    /// <summary>Largest tensor one shape may ask for (64 Mi floats = 256 MiB).</summary>
    public const long MaxElements = 1L << 26;

    public const int MaxShapes = 64;

    public static Command Create()
    {
        var rng = new Option<string>("--rng") { Description = $"Noise source: {string.Join(", ", RandomSource.Names)}", DefaultValueFactory = _ => RandomSource.Default };
        var seed = new Option<string>("--seed") { Description = "Seed, 0 to 2^64-1 (numpy: 0 to 2^32-1)", Required = true };
        var shapes = new Option<string[]>("--shape") { Description = "Shape of one draw, e.g. 1,4,64,64; repeat for consecutive draws", Required = true, AllowMultipleArgumentsPerToken = false };
        var output = new Option<string>("--out") { Description = "Output folder for 0.npy, 1.npy, …", Required = true };
        var command = new Command("noise", "Write consecutive standard normal draws of a noise source as float32 .npy files");
        command.Options.Add(rng);
        command.Options.Add(seed);
        command.Options.Add(shapes);
        command.Options.Add(output);
        command.SetAction(parse =>
        {
            string source = RandomSource.Canonicalize(parse.GetValue(rng))
                ?? throw new UsageException($"--rng '{parse.GetValue(rng)}' is unknown; use one of {string.Join(", ", RandomSource.Names)}");
            string seedText = parse.GetRequiredValue(seed);
            if (!ulong.TryParse(seedText, NumberStyles.None, CultureInfo.InvariantCulture, out ulong seedValue))
            {
                throw new UsageException($"--seed must be an integer from 0 to {ulong.MaxValue}, got '{seedText}'");
            }

            if (source == RandomSource.Numpy && seedValue > uint.MaxValue)
            {
                throw new UsageException($"--rng numpy takes seeds from 0 to {uint.MaxValue} (numpy's RandomState)");
            }

            string[] shapeTexts = parse.GetRequiredValue(shapes);
            if (shapeTexts.Length > MaxShapes)
            {
                throw new UsageException($"at most {MaxShapes} --shape options");
            }

            var parsed = shapeTexts.Select(ParseShape).ToList();
            string outDir = parse.GetRequiredValue(output);
            Directory.CreateDirectory(outDir);
            var generator = RandomSource.Create(source, seedValue);
            var files = new List<string>();
            for (int i = 0; i < parsed.Count; i++)
            {
                var (shape, count) = parsed[i];
                var values = new float[count];
                generator.Fill(values);
                string path = Path.Combine(outDir, $"{i}.npy");
                NpyFile.WriteFloat32(path, values, shape);
                files.Add(path);
            }

            Console.WriteLine(JsonSerializer.Serialize(new { files, rng = source, seed = seedValue }));
            return CommandRunner.Success;
        });
        return command;
    }

    private static (int[] Shape, int Count) ParseShape(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var shape = new int[parts.Length];
        long count = 1;
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]) || shape[i] < 1)
            {
                throw new UsageException($"--shape '{text}': dimensions must be positive integers separated by commas");
            }

            count *= shape[i];
            if (count > MaxElements)
            {
                throw new UsageException($"--shape '{text}' has more than {MaxElements} elements");
            }
        }

        return (shape, (int)count);
    }
}
