namespace StableDiffusion.Core.Schedulers;

/// <summary>diffusers' <c>KDPM2DiscreteScheduler</c> (k-diffusion's <c>sample_dpm_2</c>, Karras et al. 2022): an Euler step
/// to the geometric midpoint of σ_j and σ_{j+1}, then a step to σ_{j+1} with the midpoint's slope. N steps make 2N − 1 model
/// calls. Replicate-style name K_DPM_2, A1111 "DPM2".</summary>
/// <remarks>
/// As diffusers lays it out: σ = (σ₀, σ₁, σ₁, …, σ_{N−1}, σ_{N−1}, 0, 0, 0) and the midpoints
/// σ̃_j = exp(lerp(ln σ_j, ln σ_{j−1}, ½)) likewise repeated; the call timesteps are t₀, t̃₁, t₁, t̃₂, t₂, … with t̃ from
/// <c>_sigma_to_t</c>(σ̃). Even calls are first order (no stored sample), odd calls second order; the last call is a
/// first-order step straight to σ = 0. Honours <c>use_karras_sigmas</c> (timesteps rounded, as diffusers does here) and
/// <c>use_exponential_sigmas</c>.
/// </remarks>
public sealed class KDpm2DiscreteScheduler : IScheduler
{
    private readonly NoiseSchedule _noise;
    private double[] _timesteps = [];
    private float[] _sigmas = [];
    private float[] _interpolated = [];
    private double[] _sigmasAsDouble = [];
    private float[] _firstSample = [];

    public KDpm2DiscreteScheduler(SchedulerConfig config)
    {
        Config = config;
        _noise = new NoiseSchedule(config);
        InitNoiseSigma = KDpm2Layout.InitialSigma(config, _noise.Sigmas[^1]);
    }

    public string Name => "K_DPM_2";

    public SchedulerConfig Config { get; }

    public int Order => 2;

    public IReadOnlyList<double> Timesteps => _timesteps;

    /// <summary>diffusers' <c>sigmas</c> (2N + 2 values: one per call, then the final zeros).</summary>
    public IReadOnlyList<double> Sigmas => _sigmasAsDouble;

    public double InitNoiseSigma { get; private set; }

    public void SetTimesteps(int numInferenceSteps)
    {
        var (timesteps, schedule) = SigmaSchedule.Compute(Config, _noise, numInferenceSteps, roundKarras: true);
        var n = numInferenceSteps;
        var sigmas = new float[n + 1];
        for (var j = 0; j < n; j++)
        {
            sigmas[j] = (float)schedule[j];
        }

        // σ̃_j between σ_{j−1} and σ_j (sigmas.roll(1)); σ̃_0 (NaN in diffusers, never used) is left 0.
        var midpoints = new float[n + 1];
        for (var j = 1; j <= n; j++)
        {
            midpoints[j] = KDpm2Layout.GeometricMidpoint(sigmas[j], sigmas[j - 1]);
        }

        _sigmas = KDpm2Layout.Repeat(sigmas);
        _interpolated = KDpm2Layout.Repeat(midpoints);
        _sigmasAsDouble = Array.ConvertAll(_sigmas, s => (double)s);
        var logSigmas = Array.ConvertAll(_noise.Sigmas, MathF.Log);
        var roundedKarras = Config.UseKarrasSigmas;
        _timesteps = new double[2 * n - 1];
        _timesteps[0] = timesteps[0];
        for (var j = 1; j < n; j++)
        {
            var t = SigmaInterpolation.SigmaToT(midpoints[j], logSigmas);
            _timesteps[2 * j - 1] = roundedKarras ? t : (float)t;
            _timesteps[2 * j] = timesteps[j];
        }

        InitNoiseSigma = KDpm2Layout.InitialSigma(Config, sigmas[0]);
    }

    public void ScaleModelInput(ReadOnlySpan<float> sample, Span<float> destination, int stepIndex)
    {
        var sigma = stepIndex % 2 == 0 ? _sigmas[stepIndex] : _interpolated[stepIndex];
        var scale = MathF.Sqrt(sigma * sigma + 1f);
        for (var k = 0; k < sample.Length; k++)
        {
            destination[k] = sample[k] / scale;
        }
    }

    public void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, NoiseFill? noise)
    {
        if (_firstSample.Length != sample.Length)
        {
            _firstSample = new float[sample.Length];
        }

        var firstOrder = stepIndex % 2 == 0;
        float sigma, midpoint, sigmaNext;
        if (firstOrder)
        {
            sigma = _sigmas[stepIndex];
            midpoint = _interpolated[stepIndex + 1];
            sigmaNext = _sigmas[stepIndex + 1];
        }
        else
        {
            sigma = _sigmas[stepIndex - 1];
            midpoint = _interpolated[stepIndex];
            sigmaNext = _sigmas[stepIndex];
        }

        var sigmaInput = firstOrder ? sigma : midpoint;
        var (vOut, vIn) = SigmaSchedule.VScalings(sigmaInput);
        var vPrediction = Config.IsVPrediction;
        var dt = firstOrder ? midpoint - sigma : sigmaNext - sigma;
        for (var k = 0; k < sample.Length; k++)
        {
            var s = sample[k];
            var original = vPrediction ? modelOutput[k] * vOut + s / vIn : s - sigmaInput * modelOutput[k];
            var derivative = (s - original) / sigmaInput;
            if (firstOrder)
            {
                _firstSample[k] = s;
                sample[k] = s + derivative * dt;
            }
            else
            {
                sample[k] = _firstSample[k] + derivative * dt;
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
}
