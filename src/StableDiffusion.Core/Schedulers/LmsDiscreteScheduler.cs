namespace StableDiffusion.Core.Schedulers;

/// <summary>diffusers' <c>LMSDiscreteScheduler</c>: a linear multistep (Adams–Bashforth in σ) method of order 4 over the
/// ODE derivatives d = (x − x₀)/σ. Replicate name LMS.</summary>
public sealed class LmsDiscreteScheduler : IScheduler
{
    private const int Order = 4;

    // 4-point Gauss–Legendre nodes and weights on [−1, 1]. The integrand is a Lagrange basis polynomial of degree
    // order − 1 ≤ 3 and n-point Gauss–Legendre is exact up to degree 2n − 1 = 7, so this is the exact integral — the
    // same value diffusers gets from scipy's quad (21-point Gauss–Kronrod, also exact here) up to rounding.
    private static readonly double[] GaussNodes = [-0.8611363115940526, -0.3399810435848563, 0.3399810435848563, 0.8611363115940526];
    private static readonly double[] GaussWeights = [0.3478548451374538, 0.6521451548625461, 0.6521451548625461, 0.3478548451374538];

    private readonly SigmaSchedule _schedule;
    private readonly float[][] _derivatives = new float[Order][];
    private int _derivativeCount;
    private int _newest = -1;

    public LmsDiscreteScheduler(SchedulerConfig config)
    {
        Config = config;
        _schedule = new SigmaSchedule(config);
    }

    public string Name => "LMS";

    public SchedulerConfig Config { get; }

    public IReadOnlyList<double> Timesteps => _schedule.Timesteps;

    public IReadOnlyList<double> Sigmas => _schedule.SigmasAsDouble;

    public double InitNoiseSigma => _schedule.InitNoiseSigma;

    public void SetTimesteps(int numInferenceSteps)
    {
        _schedule.SetTimesteps(numInferenceSteps);
        _derivativeCount = 0;
        _newest = -1;
    }

    public void ScaleModelInput(ReadOnlySpan<float> sample, Span<float> destination, int stepIndex) =>
        _schedule.ScaleModelInput(sample, destination, stepIndex);

    public void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, NoiseFill? noise)
    {
        var sigma = _schedule.Sigmas[stepIndex];
        var (vOut, vIn) = SigmaSchedule.VScalings(sigma);

        if (_derivatives[0]?.Length != sample.Length)
        {
            for (var i = 0; i < Order; i++)
            {
                _derivatives[i] = new float[sample.Length];
            }
        }

        _newest = (_newest + 1) % Order;
        var derivative = _derivatives[_newest];

        for (var k = 0; k < sample.Length; k++)
        {
            var s = sample[k];
            var denoised = _schedule.PredictOriginal(modelOutput[k], s, sigma, vOut, vIn);
            derivative[k] = (s - denoised) / sigma;
        }

        _derivativeCount = Math.Min(_derivativeCount + 1, Order);

        // diffusers takes order = min(step_index + 1, 4) but zips the coefficients with the stored derivatives, so a run that
        // starts late (img2img) uses only as many terms as it has derivatives — with the order-`order` coefficients.
        var order = Math.Min(stepIndex + 1, Order);
        var terms = Math.Min(order, _derivativeCount);
        Span<float> coefficients = stackalloc float[Order];
        for (var j = 0; j < terms; j++)
        {
            coefficients[j] = (float)LmsCoefficient(order, stepIndex, j);
        }

        for (var k = 0; k < sample.Length; k++)
        {
            var sum = 0f;
            for (var j = 0; j < terms; j++)
            {
                sum += coefficients[j] * _derivatives[(_newest - j + Order) % Order][k];
            }

            sample[k] += sum;
        }
    }

    public void AddNoise(ReadOnlySpan<float> original, ReadOnlySpan<float> noise, int stepIndex, Span<float> destination) =>
        _schedule.AddNoise(original, noise, stepIndex, destination);

    /// <summary>∫ from σ_t to σ_(t+1) of the Lagrange basis polynomial for node t − current over nodes σ_t … σ_(t−order+1).</summary>
    private double LmsCoefficient(int order, int t, int current)
    {
        var sigmas = _schedule.Sigmas;
        var a = (double)sigmas[t];
        var b = (double)sigmas[t + 1];
        var half = (b - a) / 2;
        var mid = (a + b) / 2;
        var integral = 0.0;
        for (var g = 0; g < GaussNodes.Length; g++)
        {
            var tau = mid + half * GaussNodes[g];
            var product = 1.0;
            for (var k = 0; k < order; k++)
            {
                if (k != current)
                {
                    product *= (tau - sigmas[t - k]) / ((double)sigmas[t - current] - sigmas[t - k]);
                }
            }

            integral += GaussWeights[g] * product;
        }

        return half * integral;
    }
}
