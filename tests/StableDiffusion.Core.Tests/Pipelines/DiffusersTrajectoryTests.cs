using System.Text.Json;
using StableDiffusion.Core.Models;
using StableDiffusion.Core.Pipelines;
using StableDiffusion.Core.Randomness;
using StableDiffusion.Core.Schedulers;
using StableDiffusion.Core.Tests.Randomness;

namespace StableDiffusion.Core.Tests.Pipelines;

/// <summary>End to end against diffusers' draw order: our text-to-image run on the tiny model, replayed by
/// Schedulers/reference/pipeline_trajectory.py (the diffusers reference port with torch's — or numpy's — real generator:
/// initial latents first, then each noise draw of the scheduler inside the loop). The replay takes our recorded model
/// outputs, so any difference in the initial latents, the scheduler maths or the noise draws parts the trajectories.</summary>
public sealed class DiffusersTrajectoryTests
{
    private const int Steps = 10;

    private static readonly GenerationSettings Settings = new()
    {
        Prompt = "a red fox in the snow",
        NegativePrompt = "blurry",
        Width = 64,
        Height = 64,
        Steps = Steps,
        Seed = 1234,
        NumOutputs = 2,
        WatermarkPayload = null,
    };

    private static readonly Lazy<Dictionary<string, (Recorded Ours, Replayed Reference)>> Runs = new(RunAll);

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var run in Plan())
        {
            data.Add(run.Key);
        }

        return data;
    }

    [PythonReferenceTheory]
    [MemberData(nameof(Cases))]
    public void Latents_trajectory_matches_the_diffusers_reference_driven_by_the_same_generator(string key)
    {
        var (ours, reference) = Runs.Value[key];

        Compare(reference.Scaled0, ours.Scaled0, $"{key}: initial latents (scaled model input of call 0)");
        Assert.Equal(reference.Latents.Length, ours.Latents.Count);
        for (var i = 0; i < ours.Latents.Count; i++)
        {
            Compare(reference.Latents[i], ours.Latents[i], $"{key}: latents after call {i}");
        }
    }

    private static void Compare(double[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var k = 0; k < expected.Length; k++)
        {
            // Both sides round every operation to float32; what is left is libm ulps accumulated over the steps.
            var tolerance = 2e-5 * Math.Max(1.0, Math.Abs(expected[k]));
            Assert.True(Math.Abs(expected[k] - actual[k]) <= tolerance,
                $"{what}[{k}]: expected {expected[k]:R}, got {actual[k]:R}");
        }
    }

    private sealed record Run(string Key, string Scheduler, string Rng, NoiseBatching Batching, double Eta = 0);

    private static IEnumerable<Run> Plan()
    {
        foreach (var name in SchedulerFactory.Names)
        {
            yield return new Run($"{name}/cpu/per-image", name, RandomSource.Cpu, NoiseBatching.PerImage);
            yield return new Run($"{name}/cpu/one-generator", name, RandomSource.Cpu, NoiseBatching.OneGenerator);
        }

        yield return new Run("DDIM-eta/cpu/per-image", "DDIM", RandomSource.Cpu, NoiseBatching.PerImage, 0.8);
        yield return new Run("DDIM-eta/cpu/one-generator", "DDIM", RandomSource.Cpu, NoiseBatching.OneGenerator, 0.8);
        yield return new Run("DDIM-eta/numpy/per-image", "DDIM", RandomSource.Numpy, NoiseBatching.PerImage, 0.8);
        yield return new Run("K_EULER_ANCESTRAL/numpy/one-generator", "K_EULER_ANCESTRAL", RandomSource.Numpy, NoiseBatching.OneGenerator);
    }

    private sealed class Recorded
    {
        public float[] Scaled0 { get; set; } = [];
        public List<float[]> ModelOutputs { get; } = [];
        public List<float[]> Latents { get; } = [];
    }

    private sealed record Replayed(double[] Scaled0, double[][] Latents);

    private static Dictionary<string, (Recorded, Replayed)> RunAll()
    {
        using var pipeline = StableDiffusionPipeline.Load(SyntheticModelCache.Get("tiny"), new ModelLoadOptions { ExecutionProvider = "cpu" });
        var config = pipeline.Folder.Scheduler;
        var plan = Plan().ToList();
        var recorded = new List<Recorded>();
        var jobs = new List<object>();
        foreach (var run in plan)
        {
            var trace = new Recorded();
            var settings = Settings with { Scheduler = run.Scheduler, Rng = run.Rng, NoiseBatching = run.Batching, Eta = run.Eta };
            pipeline.Generate(settings, new GenerationObserver
            {
                // The UNet batch is [uncond × N, cond × N]; the first N images are the scaled latents.
                OnUNetSample = (i, sample) => trace.Scaled0 = i == 0 ? sample[..(sample.Length / 2)] : trace.Scaled0,
                OnStepTrace = (_, output, latents) =>
                {
                    trace.ModelOutputs.Add(output);
                    trace.Latents.Add(latents);
                },
            });
            recorded.Add(trace);
            jobs.Add(new
            {
                scheduler = run.Scheduler,
                config = new Dictionary<string, object>
                {
                    ["beta_start"] = config.BetaStart,
                    ["beta_end"] = config.BetaEnd,
                    ["beta_schedule"] = config.BetaSchedule,
                    ["prediction_type"] = config.PredictionType,
                    ["steps_offset"] = config.StepsOffset,
                    ["set_alpha_to_one"] = config.SetAlphaToOne,
                    ["clip_sample"] = config.ClipSample,
                    ["clip_sample_range"] = config.ClipSampleRange,
                    ["timestep_spacing"] = config.TimestepSpacing,
                },
                steps = Steps,
                eta = run.Eta,
                seed = Settings.Seed,
                images = Settings.NumOutputs,
                shape = new[] { 4, 8, 8 },
                batching = run.Batching == NoiseBatching.PerImage ? "per_image" : "one_generator",
                rng = run.Rng,
                model_outputs = trace.ModelOutputs,
            });
        }

        var output = PythonReference.Run("Schedulers/reference/pipeline_trajectory.py", JsonSerializer.Serialize(jobs));
        using var document = JsonDocument.Parse(output);
        var result = new Dictionary<string, (Recorded, Replayed)>();
        var index = 0;
        foreach (var item in document.RootElement.EnumerateArray())
        {
            var replayed = new Replayed(
                [.. item.GetProperty("scaled0").EnumerateArray().Select(v => v.GetDouble())],
                [.. item.GetProperty("latents").EnumerateArray().Select(step => step.EnumerateArray().Select(v => v.GetDouble()).ToArray())]);
            result[plan[index].Key] = (recorded[index], replayed);
            index++;
        }

        return result;
    }
}
