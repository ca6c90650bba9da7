namespace StableDiffusion.Core.Schedulers;

/// <summary>diffusers' <c>DEISMultistepScheduler</c> (Zhang &amp; Chen, arXiv:2204.13902, "log-ρ" DEIS) with its defaults:
/// noise prediction integrated in ρ = σ/α, solver order 2, lower order at the end of short runs. Replicate-style name
/// DEISMultistep, diffusers' "DEIS".</summary>
/// <remarks>
/// The model output is converted to x̂₀ and back to ε (as diffusers does, in float). First order is DDIM in λ; second order
/// x_t = α_t·(x/α_s0 + c₁·ε₀ + c₂·ε₁) with c from the closed-form integral ind(t, b, c) = t(ln t − ln c − 1)/(ln b − ln c).
/// Unlike DPM-Solver the schedule ends at σ of timestep 0 (not 0); with Karras/exponential sigmas the last one repeats.
/// Only solver_order 1–2 is implemented.
/// </remarks>
public sealed class DeisMultistepScheduler : IScheduler
{
    private readonly NoiseSchedule _noise;
    private readonly float[][] _outputs = new float[2][];
    private double[] _timesteps = [];
    private float[] _sigmas = [];
    private double[] _sigmasAsDouble = [];
    private int _newest;
    private int _lowerOrderNums;

    public DeisMultistepScheduler(SchedulerConfig config)
    {
        if (config.SolverOrder is < 1 or > 2)
        {
            throw new NotSupportedException($"solver_order {config.SolverOrder} is not supported for DEIS; use 1 or 2.");
        }

        Config = config;
        _noise = new NoiseSchedule(config);
    }

    public string Name => "DEISMultistep";

    public SchedulerConfig Config { get; }

    public IReadOnlyList<double> Timesteps => _timesteps;

    public IReadOnlyList<double> Sigmas => _sigmasAsDouble;

    public double InitNoiseSigma => 1.0;

    public void SetTimesteps(int numInferenceSteps)
    {
        var (timesteps, sigmas) = MultistepSchedule.Compute(Config, _noise, numInferenceSteps);
        _timesteps = timesteps;
        _sigmas = new float[numInferenceSteps + 1];
        for (var i = 0; i < numInferenceSteps; i++)
        {
            _sigmas[i] = (float)sigmas[i];
        }

        var ramp = Config.UseKarrasSigmas || Config.UseExponentialSigmas || Config.ScheduleType is not null;
        var alpha0 = _noise.AlphasCumprod[0];
        _sigmas[^1] = ramp ? _sigmas[^2] : MathF.Sqrt((1f - alpha0) / alpha0);
        _sigmasAsDouble = Array.ConvertAll(_sigmas, s => (double)s);
        _lowerOrderNums = 0;
    }

    public void ScaleModelInput(ReadOnlySpan<float> sample, Span<float> destination, int stepIndex) => sample.CopyTo(destination);

    public void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, NoiseFill? noise)
    {
        if (_outputs[0]?.Length != sample.Length)
        {
            _outputs[0] = new float[sample.Length];
            _outputs[1] = new float[sample.Length];
        }

        var steps = _timesteps.Length;
        var lowerOrderFinal = stepIndex == steps - 1 && Config.LowerOrderFinal && steps < 15;
        var (alphaS0, sigmaS0) = NoiseSchedule.AlphaSigma(_sigmas[stepIndex]);
        _newest ^= 1;
        var eps = _outputs[_newest];
        var vPrediction = Config.IsVPrediction;
        for (var k = 0; k < sample.Length; k++)
        {
            var x0 = vPrediction ? alphaS0 * sample[k] - sigmaS0 * modelOutput[k] : (sample[k] - sigmaS0 * modelOutput[k]) / alphaS0;
            eps[k] = (sample[k] - alphaS0 * x0) / sigmaS0;
        }

        var (alphaT, sigmaT) = NoiseSchedule.AlphaSigma(_sigmas[stepIndex + 1]);
        if (Config.SolverOrder == 1 || _lowerOrderNums < 1 || lowerOrderFinal)
        {
            var h = MathF.Log(alphaT) - MathF.Log(sigmaT) - (MathF.Log(alphaS0) - MathF.Log(sigmaS0));
            var ratio = alphaT / alphaS0;
            var coefficient = sigmaT * (MathF.Exp(h) - 1f);
            for (var k = 0; k < sample.Length; k++)
            {
                sample[k] = ratio * sample[k] - coefficient * eps[k];
            }
        }
        else
        {
            var (alphaS1, sigmaS1) = NoiseSchedule.AlphaSigma(_sigmas[stepIndex - 1]);
            var rhoT = sigmaT / alphaT;
            var rhoS0 = sigmaS0 / alphaS0;
            var rhoS1 = sigmaS1 / alphaS1;
            var coef1 = Ind(rhoT, rhoS0, rhoS1) - Ind(rhoS0, rhoS0, rhoS1);
            var coef2 = Ind(rhoT, rhoS1, rhoS0) - Ind(rhoS0, rhoS1, rhoS0);
            var previous = _outputs[_newest ^ 1];
            for (var k = 0; k < sample.Length; k++)
            {
                sample[k] = alphaT * (sample[k] / alphaS0 + coef1 * eps[k] + coef2 * previous[k]);
            }
        }

        if (_lowerOrderNums < Config.SolverOrder)
        {
            _lowerOrderNums++;
        }
    }

    public void AddNoise(ReadOnlySpan<float> original, ReadOnlySpan<float> noise, int stepIndex, Span<float> destination)
    {
        var (alpha, sigma) = NoiseSchedule.AlphaSigma(_sigmas[stepIndex]);
        for (var k = 0; k < destination.Length; k++)
        {
            destination[k] = alpha * original[k] + sigma * noise[k];
        }
    }

    /// <summary>diffusers' <c>ind_fn(t, b, c) = t·(−ln c + ln t − 1)/(ln b − ln c)</c> on float32 values.</summary>
    private static float Ind(float t, float b, float c) =>
        t * (-MathF.Log(c) + MathF.Log(t) - 1f) / (MathF.Log(b) - MathF.Log(c));
}
