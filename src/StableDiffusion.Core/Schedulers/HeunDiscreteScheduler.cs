namespace StableDiffusion.Core.Schedulers;

/// <summary>diffusers' <c>HeunDiscreteScheduler</c> (Karras et al. 2022, Algorithm 1 with γ = 0): an Euler step to the
/// next sigma, then a correction with the average of both slopes. Two model calls per step except the last, so N steps
/// make 2N − 1 calls. Replicate name HeunDiscrete, A1111 "Heun".</summary>
/// <remarks>
/// diffusers repeats every sigma but the first and the final 0 (σ₀, σ₁, σ₁, σ₂, σ₂, …, 0) and every timestep but the
/// first, and a call is first order when no slope is stored: call 2j steps from σ_j to σ_{j+1}, call 2j + 1 corrects it.
/// Honours <c>use_karras_sigmas</c> and <c>use_exponential_sigmas</c>.
/// </remarks>
public sealed class HeunDiscreteScheduler : IScheduler
{
    private readonly NoiseSchedule _noise;
    private double[] _timesteps = [];
    private float[] _sigmas = [];
    private double[] _sigmasAsDouble = [];
    private float[] _derivative = [];
    private float[] _firstSample = [];
    private float _dt;

    public HeunDiscreteScheduler(SchedulerConfig config)
    {
        Config = config;
        _noise = new NoiseSchedule(config);
        InitNoiseSigma = InitialSigma(config, _noise.Sigmas[^1]);
    }

    public string Name => "HeunDiscrete";

    public SchedulerConfig Config { get; }

    public int Order => 2;

    public IReadOnlyList<double> Timesteps => _timesteps;

    public IReadOnlyList<double> Sigmas => _sigmasAsDouble;

    public double InitNoiseSigma { get; private set; }

    public void SetTimesteps(int numInferenceSteps)
    {
        var (timesteps, sigmas) = SigmaSchedule.Compute(Config, _noise, numInferenceSteps);
        _timesteps = new double[2 * numInferenceSteps - 1];
        _sigmas = new float[2 * numInferenceSteps];
        _timesteps[0] = timesteps[0];
        _sigmas[0] = (float)sigmas[0];
        for (var j = 1; j < numInferenceSteps; j++)
        {
            _timesteps[2 * j - 1] = _timesteps[2 * j] = timesteps[j];
            _sigmas[2 * j - 1] = _sigmas[2 * j] = (float)sigmas[j];
        }

        _sigmasAsDouble = Array.ConvertAll(_sigmas, s => (double)s);
        var max = 0f;
        foreach (var s in _sigmas)
        {
            max = MathF.Max(max, s);
        }

        InitNoiseSigma = InitialSigma(Config, max);
    }

    public void ScaleModelInput(ReadOnlySpan<float> sample, Span<float> destination, int stepIndex)
    {
        var scale = MathF.Sqrt(_sigmas[stepIndex] * _sigmas[stepIndex] + 1f);
        for (var k = 0; k < sample.Length; k++)
        {
            destination[k] = sample[k] / scale;
        }
    }

    public void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, NoiseFill? noise)
    {
        if (_derivative.Length != sample.Length)
        {
            _derivative = new float[sample.Length];
            _firstSample = new float[sample.Length];
        }

        // Calls 0, 2, 4, … are first order (diffusers: dt is None), calls 1, 3, … the Heun correction.
        var firstOrder = stepIndex % 2 == 0;
        var sigma = firstOrder ? _sigmas[stepIndex] : _sigmas[stepIndex - 1];
        var sigmaNext = firstOrder ? _sigmas[stepIndex + 1] : _sigmas[stepIndex];
        var sigmaInput = firstOrder ? sigma : sigmaNext;
        var (vOut, vIn) = SigmaSchedule.VScalings(sigmaInput);
        var vPrediction = Config.IsVPrediction;
        var clip = Config.ClipSample;
        var range = (float)Config.ClipSampleRange;
        if (firstOrder)
        {
            _dt = sigmaNext - sigma;
        }

        for (var k = 0; k < sample.Length; k++)
        {
            var s = sample[k];
            var original = vPrediction ? modelOutput[k] * vOut + s / vIn : s - sigmaInput * modelOutput[k];
            if (clip)
            {
                original = Math.Clamp(original, -range, range);
            }

            if (firstOrder)
            {
                var derivative = (s - original) / sigma;
                _derivative[k] = derivative;
                _firstSample[k] = s;
                sample[k] = s + derivative * _dt;
            }
            else
            {
                var derivative = (_derivative[k] + (s - original) / sigmaNext) / 2f;
                sample[k] = _firstSample[k] + derivative * _dt;
            }
        }
    }

    public void AddNoise(ReadOnlySpan<float> original, ReadOnlySpan<float> noise, int stepIndex, Span<float> destination)
    {
        var sigma = _sigmas[stepIndex];
        for (var k = 0; k < destination.Length; k++)
        {
            destination[k] = original[k] + noise[k] * sigma;
        }
    }

    // diffusers: linspace/trailing start at σ_max itself; "leading" at √(σ_max² + 1).
    private static double InitialSigma(SchedulerConfig config, float max) =>
        config.TimestepSpacing is TimestepSpacing.Linspace or TimestepSpacing.Trailing ? max : MathF.Sqrt(max * max + 1f);
}
