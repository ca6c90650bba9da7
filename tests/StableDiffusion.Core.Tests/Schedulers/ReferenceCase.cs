using StableDiffusion.Core.Schedulers;

namespace StableDiffusion.Core.Tests.Schedulers;

/// <summary>One run of a diffusers scheduler as computed by reference/diffusers_reference.py (see DiffusersReference.cs).</summary>
/// <param name="Scheduler">Replicate name of the scheduler (the diffusers class it mirrors is in the test's comment).</param>
/// <param name="Config">Key of <see cref="ReferenceRun.Config"/>: SD 2.1-base's scheduler_config.json or a variant of it.</param>
/// <param name="Start">First step index (img2img: add_noise at this index, then step from it).</param>
/// <param name="Scaled">scale_model_input of the initial sample at <paramref name="Start"/>.</param>
/// <param name="Noisy">add_noise output for img2img runs, else null.</param>
internal sealed record ReferenceCase(
    string Scheduler,
    string Config,
    int Steps,
    double Eta,
    int Start,
    double[] Timesteps,
    double[] Sigmas,
    double InitNoiseSigma,
    double[] Scaled,
    double[]? Noisy,
    double[] FirstStep,
    double[] Final);

/// <summary>Runs a <see cref="ReferenceCase"/> through our schedulers with the inputs the Python reference uses.</summary>
internal static class ReferenceRun
{
    public const int Length = 16;

    /// <summary>Sample outputs: both sides round to float32 after every operation, so the residue is libm ulps — 1e-5
    /// absolute up to magnitude 1 and 1e-5 relative above it (float32 ulps grow with the value: the SDE samplers end runs
    /// near ±20).</summary>
    public const double SampleTolerance = 1e-5;

    /// <summary>Integer timesteps must match exactly; fractional ones (KDPM2's midpoint timesteps, Karras/exponential
    /// ramps through <c>_sigma_to_t</c>) are float32 values that a one-ulp log/exp difference moves by ~1e-5 (diffusers'
    /// own vectorised torch.log moves them by 6e-5 from this port).</summary>
    public const double TimestepTolerance = 1e-4;

    /// <summary>Schedule values are float32 numbers computed the same way on both sides.</summary>
    public const double ScheduleTolerance = 1e-6;

    public static SchedulerConfig Config(string key)
    {
        var sd21 = SchedulerConfig.StableDiffusion21Base;
        return key switch
        {
            "SD21Base" => sd21,
            "VPrediction" => sd21 with { PredictionType = "v_prediction" },
            "Linear" => sd21 with { BetaSchedule = "linear" },
            "Linspace" => sd21 with { TimestepSpacing = "linspace" },
            "Trailing" => sd21 with { TimestepSpacing = "trailing" },
            "ClipSample" => sd21 with { ClipSample = true, SetAlphaToOne = true },
            "Karras" => sd21 with { UseKarrasSigmas = true },
            "Exponential" => sd21 with { UseExponentialSigmas = true },
            _ => throw new ArgumentOutOfRangeException(nameof(key), key, null),
        };
    }

    public static ReferenceCase Find(string scheduler, string config, int steps, int start = 0, double eta = 0) =>
        Array.Find(DiffusersReference.Cases, c =>
            c.Scheduler == scheduler && c.Config == config && c.Steps == steps && c.Start == start && c.Eta == eta)
        ?? throw new InvalidOperationException($"No reference case {scheduler}/{config}/{steps}/{start}/{eta}.");

    public static IScheduler Create(ReferenceCase reference) =>
        reference.Scheduler == "DDIM"
            ? new DdimScheduler(Config(reference.Config), reference.Eta)
            : SchedulerFactory.Create(reference.Scheduler, Config(reference.Config));

    public static float[] InitialSample() => Fill(i => Math.Sin(i * 0.37));

    /// <summary>The model output of the <paramref name="call"/>-th call of a run (changes from call to call).</summary>
    public static float[] ModelOutput(int call) => Fill(i => Math.Cos(i * 0.11 + call * 0.23));

    /// <summary>A deterministic stand-in for the seeded Gaussian source: the k-th fill differs from the previous ones.</summary>
    public static NoiseFill NoiseSource()
    {
        var k = 0;
        return destination =>
        {
            for (var i = 0; i < destination.Length; i++)
            {
                destination[i] = (float)(1.3 * Math.Cos(i * 0.29 + k * 0.61));
            }

            k++;
        };
    }

    public static (float[] Original, float[] Noise) Img2ImgInputs() =>
        (Fill(i => 0.5 * Math.Cos(i * 0.41)), Fill(i => Math.Sin(i * 0.19 + 0.7)));

    public static Result Run(IScheduler scheduler, ReferenceCase reference)
    {
        scheduler.SetTimesteps(reference.Steps);
        var noise = NoiseSource();
        float[] sample;
        float[]? noisy = null;
        if (reference.Start == 0)
        {
            sample = InitialSample();
        }
        else
        {
            var (original, n) = Img2ImgInputs();
            sample = new float[Length];
            scheduler.AddNoise(original, n, reference.Start, sample);
            noisy = (float[])sample.Clone();
        }

        var scaled = new float[Length];
        scheduler.ScaleModelInput(sample, scaled, reference.Start);
        float[]? first = null;
        for (int i = reference.Start, call = 0; i < scheduler.Timesteps.Count; i++, call++)
        {
            scheduler.Step(ModelOutput(call), i, sample, noise);
            first ??= (float[])sample.Clone();
        }

        return new Result(scaled, noisy, first!, sample);
    }

    public static void AssertMatches(ReferenceCase reference)
    {
        var scheduler = Create(reference);
        var result = Run(scheduler, reference);
        AssertClose(reference.Timesteps, [.. scheduler.Timesteps], TimestepTolerance, "timesteps");
        AssertClose(reference.Sigmas, [.. scheduler.Sigmas], ScheduleTolerance, "sigmas");
        Assert.True(Math.Abs(reference.InitNoiseSigma - scheduler.InitNoiseSigma) <= ScheduleTolerance,
            $"init_noise_sigma: expected {reference.InitNoiseSigma}, got {scheduler.InitNoiseSigma}");
        AssertClose(reference.Scaled, result.Scaled, SampleTolerance, "scale_model_input");
        if (reference.Noisy is not null)
        {
            AssertClose(reference.Noisy, result.Noisy!, SampleTolerance, "add_noise");
        }

        AssertSamplesClose(reference.FirstStep, result.FirstStep, "first step");
        AssertSamplesClose(reference.Final, result.Final, "final sample");
    }

    public static void AssertSamplesClose(IReadOnlyList<double> expected, float[] actual, string what)
    {
        Assert.True(expected.Count == actual.Length, $"{what}: expected {expected.Count} values, got {actual.Length}");
        for (var i = 0; i < expected.Count; i++)
        {
            var difference = Math.Abs(expected[i] - actual[i]);
            var tolerance = SampleTolerance * Math.Max(1.0, Math.Abs(expected[i]));
            Assert.True(difference <= tolerance,
                $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (difference {difference:E2} > {tolerance:E2})");
        }
    }

    public static void AssertClose(IReadOnlyList<double> expected, IReadOnlyList<double> actual, double tolerance, string what)
    {
        Assert.True(expected.Count == actual.Count, $"{what}: expected {expected.Count} values, got {actual.Count}");
        for (var i = 0; i < expected.Count; i++)
        {
            var difference = Math.Abs(expected[i] - actual[i]);
            Assert.True(difference <= tolerance,
                $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (difference {difference:E2} > {tolerance:E0})");
        }
    }

    public static void AssertClose(IReadOnlyList<double> expected, float[] actual, double tolerance, string what) =>
        AssertClose(expected, Array.ConvertAll(actual, v => (double)v), tolerance, what);

    private static float[] Fill(Func<int, double> value)
    {
        var values = new float[Length];
        for (var i = 0; i < Length; i++)
        {
            values[i] = (float)value(i);
        }

        return values;
    }

    internal sealed record Result(float[] Scaled, float[]? Noisy, float[] FirstStep, float[] Final);
}
