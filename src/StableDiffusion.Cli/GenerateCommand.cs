using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using StableDiffusion.Core.Pipelines;

namespace StableDiffusion.Cli;

/// <summary><c>sd generate</c>: txt2img into DIR/0.png, DIR/1.png, … and one JSON line on stdout.</summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var shared = new GenerationOptions();
        var latents = new Option<string?>("--latents") { Description = "Initial latents, .npy float32 [N, 4, h, w] (diffusers' latents=)" };
        var output = new Option<string>("--out") { Description = "Output folder", Required = true };
        var command = new Command("generate", "Text to image");
        shared.AddTo(command);
        command.Options.Add(latents);
        command.Options.Add(output);
        command.SetAction(parse =>
        {
            string outDir = parse.GetRequiredValue(output);
            var settings = shared.Settings(parse);
            string modelDirectory = shared.ModelDirectory(parse);
            var loadOptions = shared.LoadOptions(parse);
            using var logging = ConsoleLogging.Create(verbose: false);
            using var pipeline = StableDiffusionPipeline.Load(modelDirectory, loadOptions, logging.CreateLogger("sd"));
            settings = GenerationOptions.ForModel(settings, pipeline);
            if (parse.GetValue(latents) is { } latentsPath)
            {
                settings = settings with { Latents = ReadLatents(latentsPath, settings, pipeline) };
            }

            return Run(pipeline, settings, outDir, ConsoleProgress.From(parse, shared.Progress, "sd generate"), CancellationToken.None);
        });
        return command;
    }

    /// <summary>Generates (showing <paramref name="progress"/>), writes the PNGs and prints the JSON line (shared with the
    /// other generating verbs).</summary>
    public static int Run(StableDiffusionPipeline pipeline, GenerationSettings settings, string outDir, ConsoleProgress progress,
        CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(outDir);
        long start = Stopwatch.GetTimestamp();
        GenerationResult result;
        try
        {
            result = pipeline.Generate(settings, progress.Observer(), cancellationToken);
        }
        finally
        {
            progress.EndLine();
        }

        double total = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var files = new List<string>();
        foreach (var image in result.Images)
        {
            string path = Path.Combine(outDir, $"{image.Index}.png");
            File.WriteAllBytes(path, image.Bytes);
            files.Add(path);
        }

        var timings = new Dictionary<string, double>(result.StageSeconds) { ["onnx_runtime"] = result.OnnxRuntimeSeconds, ["total"] = total };
        var line = new
        {
            files,
            seeds = result.Images.Select(i => i.Seed).ToArray(),
            rng = settings.Rng ?? Core.Randomness.RandomSource.Default,
            model = pipeline.Info.Name,
            scheduler = settings.Scheduler ?? pipeline.Info.DefaultScheduler,
            // The steps asked for; unet_calls is what ran: PNDM's 30 steps make 31 calls (diffusers' PLMS warm-up), and
            // img2img runs only the part of the schedule its strength keeps (diffusers' get_timesteps).
            steps = settings.Steps,
            unet_calls = result.StepsRun,
            width = result.Images[0].Width,
            height = result.Images[0].Height,
            watermarked = result.Images.Select(i => i.Watermarked).ToArray(),
            nsfw = result.Images.Select(i => i.NsfwDetected).ToArray(),
            timings = timings.ToDictionary(p => p.Key, p => Math.Round(p.Value, 4)),
            logs = result.Logs,
        };
        Console.WriteLine(JsonSerializer.Serialize(line));
        return CommandRunner.Success;
    }

    private static float[] ReadLatents(string path, GenerationSettings settings, StableDiffusionPipeline pipeline)
    {
        if (!File.Exists(path))
        {
            throw new UsageException($"--latents: file '{path}' does not exist");
        }

        int factor = pipeline.Info.LatentFactor;
        int h = (settings.Height ?? pipeline.Info.NativeHeight) / factor;
        int w = (settings.Width ?? pipeline.Info.NativeWidth) / factor;
        int[] expected = [settings.NumOutputs, 4, h, w];
        var (data, shape) = NpyFile.ReadFloat32(path, (long)settings.NumOutputs * 4 * h * w);
        if (!shape.SequenceEqual(expected))
        {
            throw new UsageException($"--latents: shape ({string.Join(", ", shape)}) does not match ({string.Join(", ", expected)}) for --num-outputs, --width and --height");
        }

        return data;
    }
}
