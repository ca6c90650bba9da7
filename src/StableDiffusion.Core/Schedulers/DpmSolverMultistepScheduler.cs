namespace StableDiffusion.Core.Schedulers;

/// <summary>diffusers' <c>DPMSolverMultistepScheduler</c> as DPM-Solver++(2M) (Lu et al., arXiv:2211.01095, Algorithm 2):
/// data-prediction multistep solver in λ = log(α/σ). Replicate names DPMSolverMultistep and, with
/// <c>use_karras_sigmas</c>, KarrasDPM.</summary>
/// <remarks>
/// Supported: algorithm_type dpmsolver++, solver_order 1 or 2, solver_type midpoint, lower_order_final, euler_at_final,
/// final_sigmas_type zero or sigma_min. The per-step scalars (α_t, σ_t, λ, h) and the element-wise updates are computed in
/// float, in diffusers' operation order, as torch does on its float32 tensors: float64 arithmetic moves a 50-step run by
/// up to 5e-6 (half our test tolerance), float keeps it within a few ulps (log/exp rounding).
/// With Karras sigmas diffusers rounds the timesteps given by <c>_sigma_to_t</c> to integers (for non-cosine schedules),
/// so the last few can repeat (…, 7, 1, 1, 0).
/// </remarks>
public sealed class DpmSolverMultistepScheduler : IScheduler
{
    private readonly NoiseSchedule _noise;
    private readonly float[][] _outputs = new float[2][];
    private double[] _timesteps = [];
    private float[] _sigmas = [];
    private double[] _sigmasAsDouble = [];
    private int _lowerOrderNums;
    private int _newest;

    public DpmSolverMultistepScheduler(SchedulerConfig config)
    {
        if (config.AlgorithmType != "dpmsolver++")
        {
            throw new NotSupportedException($"algorithm_type '{config.AlgorithmType}' is not supported; only 'dpmsolver++'.");
        }

        if (config.SolverOrder is < 1 or > 2)
        {
            throw new NotSupportedException($"solver_order {config.SolverOrder} is not supported; use 1 or 2.");
        }

        if (config.SolverType != "midpoint")
        {
            throw new NotSupportedException($"solver_type '{config.SolverType}' is not supported; only 'midpoint'.");
        }

        if (config.FinalSigmasType is not ("zero" or "sigma_min"))
        {
            throw new NotSupportedException($"final_sigmas_type '{config.FinalSigmasType}' is not supported; use 'zero' or 'sigma_min'.");
        }

        Config = config;
        _noise = new NoiseSchedule(config);
    }

    public string Name => Config.UseKarrasSigmas ? "KarrasDPM" : "DPMSolverMultistep";

    public SchedulerConfig Config { get; }

    public IReadOnlyList<double> Timesteps => _timesteps;

    public IReadOnlyList<double> Sigmas => _sigmasAsDouble;

    public double InitNoiseSigma => 1.0;

    public void SetTimesteps(int numInferenceSteps)
    {
        var train = _noise.Sigmas;
        double[] sigmas;
        if (Config.UseKarrasSigmas)
        {
            sigmas = SigmaInterpolation.Karras(train[0], train[^1], numInferenceSteps);
            var logSigmas = Array.ConvertAll(train, MathF.Log);
            _timesteps = new double[numInferenceSteps];
            for (var i = 0; i < numInferenceSteps; i++)
            {
                _timesteps[i] = Math.Round(SigmaInterpolation.SigmaToT(sigmas[i], logSigmas));
            }
        }
        else
        {
            _timesteps = TimestepSpacing.DpmSolver(Config, numInferenceSteps, ClippedTimesteps());
            sigmas = Array.ConvertAll(_timesteps, t => SigmaInterpolation.Interpolate(t, train));
        }

        _sigmas = new float[numInferenceSteps + 1];
        for (var i = 0; i < numInferenceSteps; i++)
        {
            _sigmas[i] = (float)sigmas[i];
        }

        _sigmas[^1] = Config.FinalSigmasType == "zero" ? 0f : MathF.Sqrt((1f - _noise.AlphasCumprod[0]) / _noise.AlphasCumprod[0]);
        _sigmasAsDouble = Array.ConvertAll(_sigmas, s => (double)s);
        _lowerOrderNums = 0;
    }

    public void ScaleModelInput(ReadOnlySpan<float> sample, Span<float> destination, int stepIndex) => sample.CopyTo(destination);

    public void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, NoiseFill? noise)
    {
        var steps = _timesteps.Length;
        var shortRun = Config.LowerOrderFinal && steps < 15;

        // diffusers: the last step is first order when euler_at_final, lower_order_final with < 15 steps, or a zero final
        // sigma (λ = ∞ there). Its "lower_order_second" only matters for order 3, which we do not implement.
        var lowerOrderFinal = stepIndex == steps - 1 && (Config.EulerAtFinal || shortRun || Config.FinalSigmasType == "zero");

        var (alphaS0, sigmaS0) = NoiseSchedule.AlphaSigma(_sigmas[stepIndex]);
        EnsureHistory(sample.Length);
        _newest ^= 1;
        var x0 = _outputs[_newest];

        var vPrediction = Config.IsVPrediction;
        for (var k = 0; k < sample.Length; k++)
        {
            x0[k] = vPrediction
                ? alphaS0 * sample[k] - sigmaS0 * modelOutput[k]
                : (sample[k] - sigmaS0 * modelOutput[k]) / alphaS0;
        }

        // At a zero final sigma, log(0) = −∞ makes λ_t = ∞ and exp(−h) = 0, as with torch.log: the step returns x₀.
        var (alphaT, sigmaT) = NoiseSchedule.AlphaSigma(_sigmas[stepIndex + 1]);
        var lambdaT = MathF.Log(alphaT) - MathF.Log(sigmaT);
        var lambdaS0 = MathF.Log(alphaS0) - MathF.Log(sigmaS0);
        var h = lambdaT - lambdaS0;
        var ratio = sigmaT / sigmaS0;
        var coefficient = alphaT * (MathF.Exp(-h) - 1f);

        if (Config.SolverOrder == 1 || _lowerOrderNums < 1 || lowerOrderFinal)
        {
            for (var k = 0; k < sample.Length; k++)
            {
                sample[k] = ratio * sample[k] - coefficient * x0[k];
            }
        }
        else
        {
            var (alphaS1, sigmaS1) = NoiseSchedule.AlphaSigma(_sigmas[stepIndex - 1]);
            var lambdaS1 = MathF.Log(alphaS1) - MathF.Log(sigmaS1);
            var h0 = lambdaS0 - lambdaS1;
            var inverseR0 = 1f / (h0 / h);
            var halfCoefficient = 0.5f * coefficient;
            var previous = _outputs[_newest ^ 1];
            for (var k = 0; k < sample.Length; k++)
            {
                var d1 = inverseR0 * (x0[k] - previous[k]);
                sample[k] = ratio * sample[k] - coefficient * x0[k] - halfCoefficient * d1;
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

    /// <summary>diffusers' <c>torch.searchsorted(torch.flip(lambda_t), lambda_min_clipped)</c>: how many training timesteps
    /// have λ_t = log √ᾱ − log √(1−ᾱ) below the clip (0 for the default −∞).</summary>
    private int ClippedTimesteps()
    {
        if (double.IsNegativeInfinity(Config.LambdaMinClipped))
        {
            return 0;
        }

        var count = 0;
        foreach (var alphaCumprod in _noise.AlphasCumprod)
        {
            var lambda = MathF.Log(MathF.Sqrt(alphaCumprod)) - MathF.Log(MathF.Sqrt(1f - alphaCumprod));
            if (lambda < Config.LambdaMinClipped)
            {
                count++;
            }
        }

        return count;
    }

    private void EnsureHistory(int length)
    {
        if (_outputs[0]?.Length != length)
        {
            _outputs[0] = new float[length];
            _outputs[1] = new float[length];
        }
    }
}
