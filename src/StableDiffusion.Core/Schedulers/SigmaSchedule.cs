using System.Numerics.Tensors;

namespace StableDiffusion.Core.Schedulers;

/// <summary>The k-diffusion style schedule shared by EulerDiscrete, EulerAncestralDiscrete and LMSDiscrete: timesteps by
/// <c>timestep_spacing</c>, sigmas interpolated from the training sigmas (stored as float, as diffusers does), a final 0.</summary>
internal sealed class SigmaSchedule
{
    private readonly SchedulerConfig _config;
    private readonly NoiseSchedule _noise;

    public SigmaSchedule(SchedulerConfig config)
    {
        _config = config;
        _noise = new NoiseSchedule(config);

        // Before set_timesteps diffusers' sigmas are all training sigmas (max = σ at the last timestep), so this is the
        // value a caller sees if it reads init_noise_sigma first: √(14.6146² + 1) ≈ 14.6488 for SD with "leading".
        Sigmas = [.. _noise.Sigmas, 0f];
        InitNoiseSigma = ComputeInitNoiseSigma();
    }

    public double[] Timesteps { get; private set; } = [];

    /// <summary>One sigma per model call plus the final 0.</summary>
    public float[] Sigmas { get; private set; }

    public double[] SigmasAsDouble { get; private set; } = [];

    public double InitNoiseSigma { get; private set; }

    public bool IsVPrediction => _config.IsVPrediction;

    public void SetTimesteps(int steps)
    {
        var (timesteps, schedule) = Compute(_config, _noise, steps);
        Timesteps = timesteps;
        var sigmas = new float[steps + 1];
        for (var i = 0; i < steps; i++)
        {
            sigmas[i] = (float)schedule[i];
        }

        Sigmas = sigmas;
        SigmasAsDouble = Array.ConvertAll(sigmas, s => (double)s);
        InitNoiseSigma = ComputeInitNoiseSigma();
    }

    /// <summary>The timesteps (float32 values) and float64 sigmas, before the final one, of diffusers' Euler, LMS, Heun,
    /// KDPM2 and UniPC <c>set_timesteps</c>: sigmas interpolated from the training sigmas at the spaced timesteps, or, with
    /// <c>use_karras_sigmas</c> / <c>use_exponential_sigmas</c>, a ramp between the first and last of those whose
    /// timesteps come back through <c>_sigma_to_t</c>.</summary>
    /// <param name="roundKarras">KDPM2 rounds the Karras timesteps (<c>np.array(…).round()</c>); Euler, LMS and Heun do not.</param>
    public static (double[] Timesteps, double[] Sigmas) Compute(SchedulerConfig config, NoiseSchedule noise, int steps, bool roundKarras = false)
    {
        if (config.ScheduleType is { } scheduleType)
        {
            var ramp = ScheduleTypes.Sigmas(scheduleType, noise.Sigmas, steps);
            var logs = Array.ConvertAll(noise.Sigmas, MathF.Log);
            return (Array.ConvertAll(ramp, s => (double)(float)SigmaInterpolation.SigmaToT(s, logs)), ramp);
        }

        var timesteps = TimestepSpacing.Descending(config, steps, roundLinspace: false);
        var sigmas = Array.ConvertAll(timesteps, t => SigmaInterpolation.Interpolate(t, noise.Sigmas));
        if (config.UseKarrasSigmas || config.UseExponentialSigmas)
        {
            sigmas = config.UseKarrasSigmas
                ? SigmaInterpolation.Karras(sigmas[^1], sigmas[0], steps)
                : SigmaInterpolation.Exponential(sigmas[^1], sigmas[0], steps);
            var logSigmas = Array.ConvertAll(noise.Sigmas, MathF.Log);
            timesteps = config.UseKarrasSigmas && roundKarras
                ? Array.ConvertAll(sigmas, s => Math.Round(SigmaInterpolation.SigmaToT(s, logSigmas)))
                : Array.ConvertAll(sigmas, s => (double)(float)SigmaInterpolation.SigmaToT(s, logSigmas));
        }

        return (timesteps, sigmas);
    }

    /// <summary>diffusers' <c>scale_model_input</c>: x / √(σ² + 1).</summary>
    public void ScaleModelInput(ReadOnlySpan<float> sample, Span<float> destination, int stepIndex)
    {
        var sigma = Sigmas[stepIndex];
        TensorPrimitives.Divide(sample, MathF.Sqrt(sigma * sigma + 1f), destination);
    }

    /// <summary>diffusers' <c>add_noise</c> for sigma schedules: x + σ·n.</summary>
    public void AddNoise(ReadOnlySpan<float> original, ReadOnlySpan<float> noise, int stepIndex, Span<float> destination)
    {
        var sigma = Sigmas[stepIndex];
        for (var k = 0; k < destination.Length; k++)
        {
            destination[k] = original[k] + noise[k] * sigma;
        }
    }

    /// <summary>The predicted x₀ from the model output (k-diffusion's denoised), in the float operation order of diffusers.</summary>
    public float PredictOriginal(float modelOutput, float sample, float sigma, float vOut, float vIn) =>
        IsVPrediction ? modelOutput * vOut + sample / vIn : sample - sigma * modelOutput;

    /// <summary>The v-prediction scalings c_out = −σ/√(σ²+1) and 1/c_skip = σ²+1 for <see cref="PredictOriginal"/>.</summary>
    public static (float Out, float In) VScalings(float sigma)
    {
        var inScale = sigma * sigma + 1f;
        return (-sigma / MathF.Sqrt(inScale), inScale);
    }

    private double ComputeInitNoiseSigma()
    {
        var max = 0f;
        foreach (var s in Sigmas)
        {
            max = MathF.Max(max, s);
        }

        // diffusers: linspace/trailing start at σ_max itself; "leading" starts below it, at √(σ_max² + 1).
        return _config.TimestepSpacing is TimestepSpacing.Linspace or TimestepSpacing.Trailing
            ? max
            : MathF.Sqrt(max * max + 1f);
    }
}
