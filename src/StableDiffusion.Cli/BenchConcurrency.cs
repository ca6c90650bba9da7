using System.Diagnostics;
using System.Text.Json;
using StableDiffusion.Core.Pipelines;

namespace StableDiffusion.Cli;

/// <summary>
/// <c>sd bench --concurrency N</c>: N requests at once (seeds seed … seed+N−1, the settings' image count each), run
/// one after another (what a worker without batching does) and as one UNet batch (the server's batching worker runs
/// <see cref="StableDiffusionPipeline.GenerateBatch"/>, as here). Prints images per minute of both, after one warm-up
/// of each, medians over the runs.
/// </summary>
internal static class BenchConcurrency
{
    public static void Run(StableDiffusionPipeline pipeline, GenerationSettings settings, int runs, int concurrency)
    {
        if (BatchCompatibility.KeyOf(settings) is null)
        {
            throw new UsageException("--concurrency batches text-to-image only (--task txt2img, no --latents)");
        }

        var jobs = Enumerable.Range(0, concurrency).Select(j => settings with { Seed = settings.Seed + j }).ToArray();
        void Sequential()
        {
            foreach (var job in jobs)
            {
                pipeline.Generate(job);
            }
        }

        void Batched()
        {
            foreach (var outcome in pipeline.GenerateBatch(jobs.Select(j => new BatchJob(j)).ToArray()))
            {
                outcome.GetResult().Finish();
            }
        }

        Sequential();
        Batched();
        var sequential = new List<double>();
        var batched = new List<double>();
        for (int i = 0; i < runs; i++)
        {
            // Interleaved, so a drift in machine load hits both alike.
            sequential.Add(Time(Sequential));
            batched.Add(Time(Batched));
        }

        int images = concurrency * settings.NumOutputs;
        double perMinute(double seconds) => Math.Round(images * 60 / seconds, 2);
        var line = new
        {
            model = pipeline.Info.Name,
            provider = pipeline.Info.ExecutionProvider,
            width = settings.Width ?? pipeline.Info.NativeWidth,
            height = settings.Height ?? pipeline.Info.NativeHeight,
            steps = settings.Steps,
            scheduler = settings.Scheduler ?? pipeline.Info.DefaultScheduler,
            concurrency,
            images_per_round = images,
            runs,
            sequential_seconds = Math.Round(BenchCommand.Median(sequential), 4),
            batched_seconds = Math.Round(BenchCommand.Median(batched), 4),
            sequential_images_per_minute = perMinute(BenchCommand.Median(sequential)),
            batched_images_per_minute = perMinute(BenchCommand.Median(batched)),
            speedup = Math.Round(BenchCommand.Median(sequential) / BenchCommand.Median(batched), 3),
        };
        Console.WriteLine(JsonSerializer.Serialize(line));
    }

    private static double Time(Action run)
    {
        long start = Stopwatch.GetTimestamp();
        run();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }
}
