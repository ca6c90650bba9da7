namespace StableDiffusion.Core.Schedulers;

/// <summary>diffusers' <c>DPMSolverSinglestepScheduler</c> as DPM-Solver++(2S) (Lu et al., arXiv:2211.01095, Algorithm 1):
/// steps alternate between a first-order step to an intermediate sigma and a second-order step from the sample before it,
/// using both model outputs. Replicate-style name DPMSolverSinglestep, A1111 "DPM++ 2S" (A1111's "DPM++ 2S a" is its
/// ancestral variant, which diffusers does not have).</summary>
/// <remarks>
/// Timesteps are always "linspace" over [0, num_train_timesteps − 1 − clipped] (diffusers ignores timestep_spacing here),
/// or a Karras/exponential ramp as DPM-Solver's. The order list is [1, 2, 1, 2, …] ending in first order (lower_order_final,
/// which diffusers forces on for a zero final sigma or an odd number of steps). dpmsolver++ with midpoint, solver_order 1
/// or 2, in float in diffusers' operation order.
/// </remarks>
public sealed class DpmSolverSinglestepScheduler : IScheduler
{
    private readonly NoiseSchedule _noise;
    private readonly float[][] _outputs = new float[2][];
    private double[] _timesteps = [];
    private float[] _sigmas = [];
    private double[] _sigmasAsDouble = [];
    private int[] _orders = [];
    private float[] _savedSample = [];
    private int _newest;
    private int _outputCount;

    public DpmSolverSinglestepScheduler(SchedulerConfig config)
    {
        if (config.SolverOrder is < 1 or > 2)
        {
            throw new NotSupportedException($"solver_order {config.SolverOrder} is not supported for DPM-Solver singlestep; use 1 or 2.");
        }

        if (config.AlgorithmType != "dpmsolver++" || config.SolverType != "midpoint")
        {
            throw new NotSupportedException("DPM-Solver singlestep is implemented for algorithm_type 'dpmsolver++' with solver_type 'midpoint'.");
        }

        if (config.FinalSigmasType is not ("zero" or "sigma_min"))
        {
            throw new NotSupportedException($"final_sigmas_type '{config.FinalSigmasType}' is not supported; use 'zero' or 'sigma_min'.");
        }

        Config = config;
        _noise = new NoiseSchedule(config);
    }

    public string Name => "DPMSolverSinglestep";

    public SchedulerConfig Config { get; }

    public IReadOnlyList<double> Timesteps => _timesteps;

    public IReadOnlyList<double> Sigmas => _sigmasAsDouble;

    public double InitNoiseSigma => 1.0;

    public void SetTimesteps(int numInferenceSteps)
    {
        var (timesteps, sigmas) = MultistepSchedule.Compute(Config with { TimestepSpacing = TimestepSpacing.Linspace }, _noise, numInferenceSteps, ClippedTimesteps());
        _timesteps = timesteps;
        _sigmas = new float[numInferenceSteps + 1];
        for (var i = 0; i < numInferenceSteps; i++)
        {
            _sigmas[i] = (float)sigmas[i];
        }

        var alpha0 = _noise.AlphasCumprod[0];
        _sigmas[^1] = Config.FinalSigmasType == "zero" ? 0f : MathF.Sqrt((1f - alpha0) / alpha0);
        _sigmasAsDouble = Array.ConvertAll(_sigmas, s => (double)s);
        _orders = OrderList(numInferenceSteps);
        _outputCount = 0;
    }

    /// <summary>diffusers' <c>get_order_list</c> for solver_order ≤ 2.</summary>
    private int[] OrderList(int steps)
    {
        var orders = new int[steps];
        var lowerOrderFinal = Config.LowerOrderFinal || Config.FinalSigmasType == "zero" || steps % 2 != 0;
        for (var i = 0; i < steps; i++)
        {
            orders[i] = Config.SolverOrder == 1 ? 1 : i % 2 + 1;
        }

        if (Config.SolverOrder == 2 && lowerOrderFinal && steps % 2 == 0)
        {
            // [1, 2] * (steps // 2 − 1) + [1, 1]
            orders[^1] = 1;
        }

        if (Config.FinalSigmasType == "zero")
        {
            orders[^1] = 1;
        }

        return orders;
    }

    public void ScaleModelInput(ReadOnlySpan<float> sample, Span<float> destination, int stepIndex) => sample.CopyTo(destination);

    public void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, NoiseFill? noise)
    {
        if (_outputs[0]?.Length != sample.Length)
        {
            _outputs[0] = new float[sample.Length];
            _outputs[1] = new float[sample.Length];
            _savedSample = new float[sample.Length];
        }

        var (alphaS0, sigmaS0) = NoiseSchedule.AlphaSigma(_sigmas[stepIndex]);
        _newest ^= 1;
        var x0 = _outputs[_newest];
        var vPrediction = Config.IsVPrediction;
        for (var k = 0; k < sample.Length; k++)
        {
            x0[k] = vPrediction ? alphaS0 * sample[k] - sigmaS0 * modelOutput[k] : (sample[k] - sigmaS0 * modelOutput[k]) / alphaS0;
        }

        _outputCount = Math.Min(_outputCount + 1, 2);
        var order = Math.Min(_orders[stepIndex], _outputCount);
        var (alphaT, sigmaT) = NoiseSchedule.AlphaSigma(_sigmas[stepIndex + 1]);
        var lambdaT = MathF.Log(alphaT) - MathF.Log(sigmaT);
        if (order == 1)
        {
            sample.CopyTo(_savedSample);
            var h = lambdaT - (MathF.Log(alphaS0) - MathF.Log(sigmaS0));
            var ratio = sigmaT / sigmaS0;
            var coefficient = alphaT * (MathF.Exp(-h) - 1f);
            for (var k = 0; k < sample.Length; k++)
            {
                sample[k] = ratio * _savedSample[k] - coefficient * x0[k];
            }

            return;
        }

        // Second order from the sample saved at σ_s1 (previous call) through the intermediate σ_s0 to σ_t.
        var (alphaS1, sigmaS1) = NoiseSchedule.AlphaSigma(_sigmas[stepIndex - 1]);
        var lambdaS0 = MathF.Log(alphaS0) - MathF.Log(sigmaS0);
        var lambdaS1 = MathF.Log(alphaS1) - MathF.Log(sigmaS1);
        var h2 = lambdaT - lambdaS1;
        var h0 = lambdaS0 - lambdaS1;
        var inverseR0 = 1f / (h0 / h2);
        var ratio2 = sigmaT / sigmaS1;
        var coefficient2 = alphaT * (MathF.Exp(-h2) - 1f);
        var halfCoefficient = 0.5f * coefficient2;
        var m1 = _outputs[_newest ^ 1];
        for (var k = 0; k < sample.Length; k++)
        {
            var d1 = inverseR0 * (x0[k] - m1[k]);
            sample[k] = ratio2 * _savedSample[k] - coefficient2 * m1[k] - halfCoefficient * d1;
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

    private int ClippedTimesteps()
    {
        if (double.IsNegativeInfinity(Config.LambdaMinClipped))
        {
            return 0;
        }

        var count = 0;
        foreach (var alphaCumprod in _noise.AlphasCumprod)
        {
            if (MathF.Log(MathF.Sqrt(alphaCumprod)) - MathF.Log(MathF.Sqrt(1f - alphaCumprod)) < Config.LambdaMinClipped)
            {
                count++;
            }
        }

        return count;
    }
}
