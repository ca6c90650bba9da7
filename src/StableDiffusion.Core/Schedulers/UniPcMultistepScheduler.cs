namespace StableDiffusion.Core.Schedulers;

/// <summary>diffusers' <c>UniPCMultistepScheduler</c> (Zhao et al., arXiv:2302.04867) with its defaults: data prediction
/// (predict_x0), B(h) = e^h − 1 ("bh2"), solver order 2 with lower order at the end, corrector on every step but the
/// first. Replicate-style name UniPCMultistep, A1111 "UniPC".</summary>
/// <remarks>
/// Each call first corrects the previous prediction with the new model output (UniC), then predicts the next sample
/// (UniP). Order 2 takes ρ_p = ½ and solves the 2×2 system R·ρ_c = b (R = [[1, 1], [r₁, 1]]) for the corrector, as
/// <c>torch.linalg.solve</c> does, with partial pivoting. Scalars and updates in float, in diffusers' operation order.
/// Timesteps and sigmas as DPM-Solver's (<see cref="MultistepSchedule"/>), with Karras or exponential sigmas.
/// Only solver_order 1–2, solver_type bh2, predict_x0 and final_sigmas_type "zero" are implemented.
/// </remarks>
public sealed class UniPcMultistepScheduler : IScheduler
{
    private readonly NoiseSchedule _noise;
    private readonly float[][] _outputs = new float[2][];
    private double[] _timesteps = [];
    private float[] _sigmas = [];
    private double[] _sigmasAsDouble = [];
    private float[] _lastSample = [];
    private float[] _converted = [];
    private bool _hasLastSample;
    private int _newest;
    private int _thisOrder;
    private int _lowerOrderNums;

    public UniPcMultistepScheduler(SchedulerConfig config)
    {
        if (config.SolverOrder is < 1 or > 2)
        {
            throw new NotSupportedException($"solver_order {config.SolverOrder} is not supported for UniPC; use 1 or 2.");
        }

        if (config.UniPcSolverType != "bh2" || !config.PredictX0)
        {
            throw new NotSupportedException("UniPC is implemented with solver_type 'bh2' and predict_x0 true (diffusers' defaults).");
        }

        if (config.FinalSigmasType != "zero")
        {
            throw new NotSupportedException($"final_sigmas_type '{config.FinalSigmasType}' is not supported for UniPC; use 'zero'.");
        }

        Config = config;
        _noise = new NoiseSchedule(config);
    }

    public string Name => "UniPCMultistep";

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

        _sigmasAsDouble = Array.ConvertAll(_sigmas, s => (double)s);
        _hasLastSample = false;
        _lowerOrderNums = 0;
        _thisOrder = 0;
    }

    public void ScaleModelInput(ReadOnlySpan<float> sample, Span<float> destination, int stepIndex) => sample.CopyTo(destination);

    public void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, NoiseFill? noise)
    {
        EnsureBuffers(sample.Length);
        var (alpha, sigma) = NoiseSchedule.AlphaSigma(_sigmas[stepIndex]);
        var vPrediction = Config.IsVPrediction;
        for (var k = 0; k < sample.Length; k++)
        {
            _converted[k] = vPrediction
                ? alpha * sample[k] - sigma * modelOutput[k]
                : (sample[k] - sigma * modelOutput[k]) / alpha;
        }

        if (stepIndex > 0 && _hasLastSample)
        {
            Correct(sample, stepIndex, _thisOrder);
        }

        // Shift the history: the converted output becomes m0.
        _newest ^= 1;
        _converted.CopyTo(_outputs[_newest], 0);

        var order = Config.LowerOrderFinal ? Math.Min(Config.SolverOrder, _timesteps.Length - stepIndex) : Config.SolverOrder;
        _thisOrder = Math.Min(order, _lowerOrderNums + 1);
        sample.CopyTo(_lastSample);
        _hasLastSample = true;
        Predict(sample, stepIndex, _thisOrder);
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

    /// <summary>UniP (multistep_uni_p_bh_update) from σ_i to σ_{i+1}, in place.</summary>
    private void Predict(Span<float> sample, int stepIndex, int order)
    {
        var (alphaT, sigmaT) = NoiseSchedule.AlphaSigma(_sigmas[stepIndex + 1]);
        var (alphaS0, sigmaS0) = NoiseSchedule.AlphaSigma(_sigmas[stepIndex]);
        var lambdaS0 = Lambda(alphaS0, sigmaS0);
        var h = Lambda(alphaT, sigmaT) - lambdaS0;
        var hh = -h;
        var hPhi1 = Expm1(hh);
        var ratio = sigmaT / sigmaS0;
        var dataCoefficient = alphaT * hPhi1;
        var m0 = _outputs[_newest];
        if (order == 1)
        {
            for (var k = 0; k < sample.Length; k++)
            {
                sample[k] = ratio * sample[k] - dataCoefficient * m0[k];
            }

            return;
        }

        var rk = RatioTo(stepIndex - 1, lambdaS0, h);
        var m1 = _outputs[_newest ^ 1];
        var correction = alphaT * Expm1(hh);
        for (var k = 0; k < sample.Length; k++)
        {
            var d1 = (m1[k] - m0[k]) / rk;
            var predicted = ratio * sample[k] - dataCoefficient * m0[k];
            sample[k] = predicted - correction * (0.5f * d1);
        }
    }

    /// <summary>UniC (multistep_uni_c_bh_update): corrects the prediction that reached σ_i using this call's output.</summary>
    private void Correct(Span<float> sample, int stepIndex, int order)
    {
        var (alphaT, sigmaT) = NoiseSchedule.AlphaSigma(_sigmas[stepIndex]);
        var (alphaS0, sigmaS0) = NoiseSchedule.AlphaSigma(_sigmas[stepIndex - 1]);
        var lambdaS0 = Lambda(alphaS0, sigmaS0);
        var h = Lambda(alphaT, sigmaT) - lambdaS0;
        var hh = -h;
        var hPhi1 = Expm1(hh);
        var bh = Expm1(hh);
        var ratio = sigmaT / sigmaS0;
        var dataCoefficient = alphaT * hPhi1;
        var correction = alphaT * bh;
        var m0 = _outputs[_newest];
        var x = _lastSample;
        if (order == 1)
        {
            for (var k = 0; k < sample.Length; k++)
            {
                var predicted = ratio * x[k] - dataCoefficient * m0[k];
                sample[k] = predicted - correction * (0.5f * (_converted[k] - m0[k]));
            }

            return;
        }

        var rk = RatioTo(stepIndex - 2, lambdaS0, h);

        // b_i = h·φ_{i}(h)·i! / B(h) for i = 1, 2 (diffusers' running h_phi_k), then R·ρ = b.
        var hPhiK = hPhi1 / hh - 1f;
        var b1 = hPhiK * 1f / bh;
        hPhiK = hPhiK / hh - 0.5f;
        var b2 = hPhiK * 2f / bh;
        var (rho0, rho1) = Solve2(rk, b1, b2);
        var m1 = _outputs[_newest ^ 1];
        for (var k = 0; k < sample.Length; k++)
        {
            var d1 = (m1[k] - m0[k]) / rk;
            var predicted = ratio * x[k] - dataCoefficient * m0[k];
            sample[k] = predicted - correction * (rho0 * d1 + rho1 * (_converted[k] - m0[k]));
        }
    }

    /// <summary>r_k = (λ_{s_k} − λ_{s0}) / h for the sigma at <paramref name="index"/>.</summary>
    private float RatioTo(int index, float lambdaS0, float h)
    {
        var (alpha, sigma) = NoiseSchedule.AlphaSigma(_sigmas[index]);
        return (Lambda(alpha, sigma) - lambdaS0) / h;
    }

    private static float Lambda(float alpha, float sigma) => MathF.Log(alpha) - MathF.Log(sigma);

    /// <summary><c>torch.linalg.solve([[1, 1], [rk, 1]], [b1, b2])</c> as LAPACK's getrf/getrs: partial pivoting on the
    /// first column, the multiplier as a product with the pivot's reciprocal.</summary>
    internal static (float Rho0, float Rho1) Solve2(float rk, float b1, float b2)
    {
        if (MathF.Abs(rk) > 1f)
        {
            var l = 1f * (1f / rk);
            var u11 = 1f - l * 1f;
            var y1 = b1 - l * b2;
            var x1 = y1 / u11;
            return ((b2 - 1f * x1) / rk, x1);
        }
        else
        {
            var l = rk * (1f / 1f);
            var u11 = 1f - l * 1f;
            var y1 = b2 - l * b1;
            var x1 = y1 / u11;
            return ((b1 - 1f * x1) / 1f, x1);
        }
    }

    /// <summary><c>expm1</c> in float (glibc's expm1f is correctly rounded in practice): double e^x − 1, with a series
    /// where the subtraction would cancel.</summary>
    internal static float Expm1(float x)
    {
        double v = x;
        if (double.IsNegativeInfinity(v))
        {
            return -1f;
        }

        return Math.Abs(v) < 1e-5 ? (float)(v + v * v / 2 + v * v * v / 6) : (float)(Math.Exp(v) - 1.0);
    }

    private void EnsureBuffers(int length)
    {
        if (_converted.Length != length)
        {
            _converted = new float[length];
            _lastSample = new float[length];
            _outputs[0] = new float[length];
            _outputs[1] = new float[length];
        }
    }
}
