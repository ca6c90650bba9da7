namespace StableDiffusion.Core.Schedulers;

/// <summary>diffusers' <c>DPMSolverMultistepScheduler</c> as DPM-Solver++(2M) (Lu et al., arXiv:2211.01095, Algorithm 2):
/// data-prediction multistep solver in λ = log(α/σ). Replicate names DPMSolverMultistep and, with
/// <c>use_karras_sigmas</c>, KarrasDPM.</summary>
/// <remarks>
/// Supported: algorithm_type dpmsolver++ and sde-dpmsolver++ (Replicate-style names DPMSolverMultistepSDE and
/// KarrasDPMSDE, A1111's "DPM++ 2M SDE" [Karras]), Karras or exponential sigmas, solver_order 1 or 2, solver_type midpoint, lower_order_final, euler_at_final,
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
    private float[] _noiseBuffer = [];
    private double[] _sigmasAsDouble = [];
    private int _lowerOrderNums;
    private int _newest;

    public DpmSolverMultistepScheduler(SchedulerConfig config)
    {
        if (config.AlgorithmType is not ("dpmsolver++" or "sde-dpmsolver++"))
        {
            throw new NotSupportedException($"algorithm_type '{config.AlgorithmType}' is not supported; use 'dpmsolver++' or 'sde-dpmsolver++'.");
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

    public string Name => (Config.UseKarrasSigmas, IsSde) switch
    {
        (false, false) => "DPMSolverMultistep",
        (true, false) => "KarrasDPM",
        (false, true) => "DPMSolverMultistepSDE",
        (true, true) => "KarrasDPMSDE",
    };

    /// <summary>DPM-Solver++(2M) SDE (<c>algorithm_type: sde-dpmsolver++</c>, A1111's "DPM++ 2M SDE"): each step draws
    /// fresh noise of the sample's shape from the job's generator, final step included.</summary>
    public bool IsSde => Config.AlgorithmType == "sde-dpmsolver++";

    public SchedulerConfig Config { get; }

    public IReadOnlyList<double> Timesteps => _timesteps;

    public IReadOnlyList<double> Sigmas => _sigmasAsDouble;

    public double InitNoiseSigma => 1.0;

    public void SetTimesteps(int numInferenceSteps)
    {
        var (timesteps, sigmas) = MultistepSchedule.Compute(Config, _noise, numInferenceSteps, ClippedTimesteps());
        _timesteps = timesteps;
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
        if (IsSde)
        {
            ArgumentNullException.ThrowIfNull(noise);
            if (_noiseBuffer.Length != sample.Length)
            {
                _noiseBuffer = new float[sample.Length];
            }

            noise(_noiseBuffer);
            SdeUpdate(sample, x0, stepIndex, alphaT, sigmaT, sigmaS0, lambdaS0, h, lowerOrderFinal);
        }
        else
        {
            OdeUpdate(sample, x0, stepIndex, alphaT, sigmaT, sigmaS0, lambdaS0, h, lowerOrderFinal);
        }

        if (_lowerOrderNums < Config.SolverOrder)
        {
            _lowerOrderNums++;
        }
    }

    /// <summary>dpmsolver++ first order (DDIM in λ) or 2M midpoint update.</summary>
    private void OdeUpdate(Span<float> sample, float[] x0, int stepIndex, float alphaT, float sigmaT, float sigmaS0, float lambdaS0, float h, bool lowerOrderFinal)
    {
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
    }

    /// <summary>sde-dpmsolver++ (Lu et al., arXiv:2211.01095, §5 SDE variant): x_t = (σ_t/σ_s·e^{−h})·x + α_t(1 − e^{−2h})·D
    /// + σ_t·√(1 − e^{−2h})·z, with D = D0 (first order) or D0 + ½·D1 (midpoint); z from the job's generator.</summary>
    private void SdeUpdate(Span<float> sample, float[] x0, int stepIndex, float alphaT, float sigmaT, float sigmaS0, float lambdaS0, float h, bool lowerOrderFinal)
    {
        var decay = sigmaT / sigmaS0 * MathF.Exp(-h);
        var e2 = MathF.Exp(-2f * h);
        var dataCoefficient = alphaT * (1f - e2);
        var noiseCoefficient = sigmaT * MathF.Sqrt(1f - e2);
        var z = _noiseBuffer;
        if (Config.SolverOrder == 1 || _lowerOrderNums < 1 || lowerOrderFinal)
        {
            for (var k = 0; k < sample.Length; k++)
            {
                sample[k] = decay * sample[k] + dataCoefficient * x0[k] + noiseCoefficient * z[k];
            }

            return;
        }

        var (alphaS1, sigmaS1) = NoiseSchedule.AlphaSigma(_sigmas[stepIndex - 1]);
        var lambdaS1 = MathF.Log(alphaS1) - MathF.Log(sigmaS1);
        var h0 = lambdaS0 - lambdaS1;
        var inverseR0 = 1f / (h0 / h);
        var halfData = 0.5f * dataCoefficient;
        var previous = _outputs[_newest ^ 1];
        for (var k = 0; k < sample.Length; k++)
        {
            var d1 = inverseR0 * (x0[k] - previous[k]);
            sample[k] = decay * sample[k] + dataCoefficient * x0[k] + halfData * d1 + noiseCoefficient * z[k];
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
