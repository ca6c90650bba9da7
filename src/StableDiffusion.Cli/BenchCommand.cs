using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using StableDiffusion.Core.Pipelines;

namespace StableDiffusion.Cli;

/// <summary>
/// <c>sd bench</c>: seconds per step, seconds per image, the share of wall time spent outside ONNX Runtime's Run
/// (pipeline overhead), and peak working set — all measured in one process, after one warm-up run. With
/// <c>--concurrency N</c>: images per minute of N requests run one by one and as one batch (<see cref="BenchConcurrency"/>).
/// </summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var shared = new GenerationOptions();
        var runs = new Option<int>("--runs") { Description = "Measured runs (after one warm-up)", DefaultValueFactory = _ => 3 };
        var task = new Option<string>("--task") { Description = "txt2img, img2img, inpaint, upscale or depth", DefaultValueFactory = _ => "txt2img" };
        var image = new Option<string?>("--image") { Description = "Input image for image tasks; default: a generated gradient" };
        var batchSizes = new Option<string?>("--batch-sizes") { Description = "Comma-separated images per run to measure in turn after one load (e.g. 1,4); default: --num-outputs" };
        var strength = new Option<double>("--prompt-strength") { Description = "img2img/inpaint/depth strength", DefaultValueFactory = _ => 0.8 };
        var concurrency = new Option<int>("--concurrency") { Description = "N requests at once: sequential vs one UNet batch, images/min (txt2img)", DefaultValueFactory = _ => 1 };
        var command = new Command("bench", "Measure generation speed and memory on a model");
        shared.AddTo(command);
        command.Options.Add(runs);
        command.Options.Add(task);
        command.Options.Add(image);
        command.Options.Add(strength);
        command.Options.Add(batchSizes);
        command.Options.Add(concurrency);
        command.SetAction(parse =>
        {
            int count = parse.GetValue(runs);
            if (count is < 1 or > 100)
            {
                throw new UsageException("--runs must be between 1 and 100");
            }

            var settings = shared.Settings(parse);
            string modelDirectory = shared.ModelDirectory(parse);
            var loadOptions = shared.LoadOptions(parse);
            using var logging = ConsoleLogging.Create(verbose: false);
            using var pipeline = StableDiffusionPipeline.Load(modelDirectory, loadOptions, logging.CreateLogger("sd"));
            settings = GenerationOptions.ForModel(settings, pipeline);
            if (settings.Prompt.Length == 0)
            {
                settings = settings with { Prompt = "a photograph of an astronaut riding a horse" };
            }

            settings = BenchInputs.Apply(settings, pipeline, parse.GetValue(task) ?? "txt2img", parse.GetValue(image), parse.GetValue(strength));
            int together = parse.GetValue(concurrency);
            if (together is < 1 or > 64)
            {
                throw new UsageException("--concurrency must be between 1 and 64");
            }
            if (together > 1)
            {
                BenchConcurrency.Run(pipeline, settings, count, together);
                return CommandRunner.Success;
            }

            // One load, each batch size measured after its own warm-up (loading dominates on a GPU).
            int[] sizes = parse.GetValue(batchSizes) is { Length: > 0 } list ? ParseSizes(list) : [settings.NumOutputs];
            var progress = ConsoleProgress.From(parse, shared.Progress, "sd bench (warm-up)");
            foreach (int size in sizes)
            {
                Console.WriteLine(JsonSerializer.Serialize(Line(pipeline, settings with { NumOutputs = size }, count, progress)));
            }

            return CommandRunner.Success;
        });
        return command;
    }

    private static int[] ParseSizes(string list)
    {
        var sizes = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(p => int.TryParse(p, out int n) && n is >= 1 and <= 64 ? n : 0).ToArray();
        return sizes.Length > 0 && !sizes.Contains(0)
            ? sizes
            : throw new UsageException($"--batch-sizes must be a comma-separated list of 1..64, not '{list}'");
    }

    /// <summary>One warm-up run, then <paramref name="count"/> measured runs; the JSON line of the results.</summary>
    private static object Line(StableDiffusionPipeline pipeline, GenerationSettings settings, int count, ConsoleProgress progress)
    {
        progress.Label = "sd bench (warm-up)";
        var warmup = pipeline.Generate(settings, progress.Observer());
        var measured = Measure(pipeline, settings, count, progress);
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return new
        {
            model = pipeline.Info.Name,
            task = settings.Task.ToString(),
            provider = pipeline.Info.ExecutionProvider,
            io_binding = pipeline.Info.IoBinding,
            device_steps = pipeline.Info.DeviceSteps,
            cuda_graph = pipeline.Info.CudaGraph,
            width = warmup.Images[0].Width,
            height = warmup.Images[0].Height,
            steps = settings.Steps,
            scheduler = settings.Scheduler ?? pipeline.Info.DefaultScheduler,
            images_per_run = settings.NumOutputs,
            runs = count,
            seconds_per_step = Math.Round(Median(measured.PerStep), 5),
            seconds_per_image = Math.Round(Median(measured.Totals) / settings.NumOutputs, 4),
            seconds_per_run = Math.Round(Median(measured.Totals), 4),
            onnx_runtime_share = Math.Round(measured.Onnx / measured.Wall, 4),
            pipeline_overhead_share = Math.Round(1 - measured.Onnx / measured.Wall, 4),
            stage_seconds = measured.Stages.ToDictionary(p => p.Key, p => Math.Round(p.Value, 4)),
            // Since load: every run repeats the prompt, so after the first both prompts come from the cache
            // (Models:PromptCacheEntries; --batch-sizes lines count on from the previous one).
            prompt_cache = new { hits = pipeline.PromptCache.Hits, misses = pipeline.PromptCache.Misses },
            peak_working_set_mb = Math.Round(process.PeakWorkingSet64 / 1048576.0, 1),
        };
    }

    private sealed record Runs(List<double> Totals, List<double> PerStep, double Onnx, double Wall, Dictionary<string, double> Stages);

    /// <summary>The measured runs (seeds seed, seed+1, …), each labelled in the progress display.</summary>
    private static Runs Measure(StableDiffusionPipeline pipeline, GenerationSettings settings, int count, ConsoleProgress progress)
    {
        var runs = new Runs([], [], 0, 0, []);
        for (int i = 0; i < count; i++)
        {
            progress.Label = $"sd bench (run {i + 1}/{count})";
            long start = Stopwatch.GetTimestamp();
            var result = pipeline.Generate(settings with { Seed = settings.Seed + i }, progress.Observer());
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            runs.Totals.Add(seconds);
            runs.PerStep.Add(result.StepsRun > 0 ? result.StageSeconds["denoise"] / result.StepsRun : 0);
            runs = runs with { Onnx = runs.Onnx + result.OnnxRuntimeSeconds, Wall = runs.Wall + seconds };
            foreach (var (stage, s) in result.StageSeconds)
            {
                runs.Stages[stage] = runs.Stages.GetValueOrDefault(stage) + s / count;
            }
        }

        return runs;
    }

    internal static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
