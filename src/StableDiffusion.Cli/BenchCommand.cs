using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using StableDiffusion.Core.Pipelines;

namespace StableDiffusion.Cli;

/// <summary>
/// <c>sd bench</c>: seconds per step, seconds per image, the share of wall time spent outside ONNX Runtime's Run
/// (pipeline overhead), and peak working set — all measured in one process, after one warm-up run.
/// </summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var shared = new GenerationOptions();
        var runs = new Option<int>("--runs") { Description = "Measured runs (after one warm-up)", DefaultValueFactory = _ => 3 };
        var task = new Option<string>("--task") { Description = "txt2img, img2img, inpaint, upscale or depth", DefaultValueFactory = _ => "txt2img" };
        var image = new Option<string?>("--image") { Description = "Input image for image tasks; default: a generated gradient" };
        var strength = new Option<double>("--prompt-strength") { Description = "img2img/inpaint/depth strength", DefaultValueFactory = _ => 0.8 };
        var command = new Command("bench", "Measure generation speed and memory on a model");
        shared.AddTo(command);
        command.Options.Add(runs);
        command.Options.Add(task);
        command.Options.Add(image);
        command.Options.Add(strength);
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

            var warmup = pipeline.Generate(settings);
            int lastWidth = warmup.Images[0].Width, lastHeight = warmup.Images[0].Height;
            var totals = new List<double>();
            var perStep = new List<double>();
            double onnx = 0, wall = 0;
            var stages = new Dictionary<string, double>();
            for (int i = 0; i < count; i++)
            {
                long start = Stopwatch.GetTimestamp();
                var result = pipeline.Generate(settings with { Seed = settings.Seed + i });
                double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                totals.Add(seconds);
                perStep.Add(result.StepsRun > 0 ? result.StageSeconds["denoise"] / result.StepsRun : 0);
                onnx += result.OnnxRuntimeSeconds;
                wall += seconds;
                foreach (var (stage, s) in result.StageSeconds)
                {
                    stages[stage] = stages.GetValueOrDefault(stage) + s / count;
                }
            }

            using var process = Process.GetCurrentProcess();
            process.Refresh();
            var line = new
            {
                model = pipeline.Info.Name,
                task = settings.Task.ToString(),
                provider = pipeline.Info.ExecutionProvider,
                width = lastWidth,
                height = lastHeight,
                steps = settings.Steps,
                scheduler = settings.Scheduler ?? pipeline.Info.DefaultScheduler,
                images_per_run = settings.NumOutputs,
                runs = count,
                seconds_per_step = Math.Round(Median(perStep), 5),
                seconds_per_image = Math.Round(Median(totals) / settings.NumOutputs, 4),
                seconds_per_run = Math.Round(Median(totals), 4),
                onnx_runtime_share = Math.Round(onnx / wall, 4),
                pipeline_overhead_share = Math.Round(1 - onnx / wall, 4),
                stage_seconds = stages.ToDictionary(p => p.Key, p => Math.Round(p.Value, 4)),
                // Every run repeats the prompt: after the warm-up, both prompts come from the cache (Models:PromptCacheEntries).
                prompt_cache = new { hits = pipeline.PromptCache.Hits, misses = pipeline.PromptCache.Misses },
                peak_working_set_mb = Math.Round(process.PeakWorkingSet64 / 1048576.0, 1),
            };
            Console.WriteLine(JsonSerializer.Serialize(line));
            return CommandRunner.Success;
        });
        return command;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
