namespace StableDiffusion.Core.Schedulers;

/// <summary>diffusers' <c>DDIMScheduler</c> (Song et al., arXiv:2010.02502, eq. 12 and 16). Deterministic for η = 0;
/// η &gt; 0 adds σ_t(η)·z with z from the <see cref="NoiseFill"/>. Replicate name DDIM.</summary>
public sealed class DdimScheduler : IScheduler
{
    private readonly NoiseSchedule _noise;
    private double[] _timesteps = [];
    private float[] _variance = [];
    private int _steps;

    public DdimScheduler(SchedulerConfig config, double eta = 0.0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(eta);
        Config = config;
        Eta = eta;
        _noise = new NoiseSchedule(config);
    }

    public string Name => "DDIM";

    public SchedulerConfig Config { get; }

    /// <summary>η of the DDIM paper: 0 is deterministic DDIM, 1 is DDPM-like ancestral sampling.</summary>
    public double Eta { get; set; }

    public IReadOnlyList<double> Timesteps => _timesteps;

    public IReadOnlyList<double> Sigmas => [];

    public double InitNoiseSigma => 1.0;

    public void SetTimesteps(int numInferenceSteps)
    {
        if (numInferenceSteps > Config.NumTrainTimesteps)
        {
            throw new ArgumentOutOfRangeException(nameof(numInferenceSteps), numInferenceSteps,
                $"DDIM cannot take more steps than num_train_timesteps ({Config.NumTrainTimesteps}).");
        }

        _steps = numInferenceSteps;
        _timesteps = TimestepSpacing.Descending(Config, numInferenceSteps, roundLinspace: true);
    }

    public void ScaleModelInput(ReadOnlySpan<float> sample, Span<float> destination, int stepIndex) => sample.CopyTo(destination);

    public void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, NoiseFill? noise)
    {
        if (_steps == 0)
        {
            throw new InvalidOperationException("Call SetTimesteps before Step.");
        }

        var timestep = (int)_timesteps[stepIndex];

        // diffusers steps back by num_train_timesteps // steps whatever the spacing, and uses set_alpha_to_one's value
        // below timestep 0.
        var prevTimestep = timestep - Config.NumTrainTimesteps / _steps;
        var alphaProd = _noise.AlphasCumprod[timestep];
        var alphaProdPrev = _noise.AlphaCumprodOrFinal(prevTimestep);
        var betaProd = 1f - alphaProd;
        var sqrtAlpha = MathF.Sqrt(alphaProd);
        var sqrtBeta = MathF.Sqrt(betaProd);

        var betaProdPrev = 1f - alphaProdPrev;
        var variance = betaProdPrev / betaProd * (1f - alphaProd / alphaProdPrev);
        var stdDev = (float)Eta * MathF.Sqrt(variance);
        var directionScale = MathF.Sqrt(1f - alphaProdPrev - stdDev * stdDev);
        var sqrtAlphaPrev = MathF.Sqrt(alphaProdPrev);

        if (Eta > 0)
        {
            ArgumentNullException.ThrowIfNull(noise);
            if (_variance.Length != sample.Length)
            {
                _variance = new float[sample.Length];
            }

            noise(_variance);
        }

        var clip = Config.ClipSample;
        var range = (float)Config.ClipSampleRange;
        var vPrediction = Config.IsVPrediction;
        for (var k = 0; k < sample.Length; k++)
        {
            var s = sample[k];
            var m = modelOutput[k];
            float original, epsilon;
            if (vPrediction)
            {
                original = sqrtAlpha * s - sqrtBeta * m;
                epsilon = sqrtAlpha * m + sqrtBeta * s;
            }
            else
            {
                original = (s - sqrtBeta * m) / sqrtAlpha;
                epsilon = m;
            }

            if (clip)
            {
                original = Math.Clamp(original, -range, range);
            }

            var prev = sqrtAlphaPrev * original + directionScale * epsilon;
            sample[k] = Eta > 0 ? prev + stdDev * _variance[k] : prev;
        }
    }

    public void AddNoise(ReadOnlySpan<float> original, ReadOnlySpan<float> noise, int stepIndex, Span<float> destination) =>
        DdpmNoise.Add(_noise, (int)_timesteps[stepIndex], original, noise, destination);
}
