namespace StableDiffusion.Core.Schedulers;

/// <summary>diffusers' <c>KDPM2AncestralDiscreteScheduler</c> (k-diffusion's <c>sample_dpm_2_ancestral</c>): DPM2 towards
/// σ_down with the midpoint's slope, then fresh noise of σ_up from the job's generator after every second-order call.
/// N steps make 2N − 1 model calls. Replicate-style name K_DPM_2_ANCESTRAL, A1111 "DPM2 a".</summary>
/// <remarks>
/// σ_up = √(σ_{j+1}²(σ_j² − σ_{j+1}²)/σ_j²), σ_down = √(σ_{j+1}² − σ_up²), midpoint σ̃_j = exp(lerp(ln σ_j, ln σ_down,j, ½)),
/// the last two midpoints 0 — all in float as diffusers computes them on float32 tensors, then laid out like
/// <see cref="KDpm2DiscreteScheduler"/>. Call timesteps t₀, t̃₀, t₁, t̃₁, …, t_{N−1}. The last call is a first-order
/// step to 0 without noise. Honours <c>use_karras_sigmas</c> and <c>use_exponential_sigmas</c>.
/// </remarks>
public sealed class KDpm2AncestralDiscreteScheduler : IScheduler
{
    private readonly NoiseSchedule _noise;
    private double[] _timesteps = [];
    private float[] _sigmas = [];
    private float[] _interpolated = [];
    private float[] _up = [];
    private float[] _down = [];
    private double[] _sigmasAsDouble = [];
    private float[] _firstSample = [];
    private float[] _noiseBuffer = [];

    public KDpm2AncestralDiscreteScheduler(SchedulerConfig config)
    {
        Config = config;
        _noise = new NoiseSchedule(config);
        InitNoiseSigma = KDpm2Layout.InitialSigma(config, _noise.Sigmas[^1]);
    }

    public string Name => "K_DPM_2_ANCESTRAL";

    public SchedulerConfig Config { get; }

    public int Order => 2;

    public IReadOnlyList<double> Timesteps => _timesteps;

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

        var up = new float[n + 1];
        var down = new float[n + 1];
        var midpoints = new float[n + 1];
        for (var j = 0; j <= n; j++)
        {
            var next = j < n ? sigmas[j + 1] : 0f;
            var next2 = next * next;
            var sigma2 = sigmas[j] * sigmas[j];
            up[j] = MathF.Sqrt(next2 * (sigma2 - next2) / sigma2);
            down[j] = j < n ? MathF.Sqrt(next2 - up[j] * up[j]) : 0f;
            midpoints[j] = j < n - 1 ? KDpm2Layout.GeometricMidpoint(sigmas[j], down[j]) : 0f;
        }

        _sigmas = KDpm2Layout.Repeat(sigmas);
        _interpolated = KDpm2Layout.Repeat(midpoints);
        _up = KDpm2Layout.Repeat(up);
        _down = KDpm2Layout.Repeat(down);
        _sigmasAsDouble = Array.ConvertAll(_sigmas, s => (double)s);
        var logSigmas = Array.ConvertAll(_noise.Sigmas, MathF.Log);
        var roundedKarras = Config.UseKarrasSigmas;
        _timesteps = new double[2 * n - 1];
        _timesteps[0] = timesteps[0];
        for (var j = 1; j < n; j++)
        {
            var t = SigmaInterpolation.SigmaToT(midpoints[j - 1], logSigmas);
            _timesteps[2 * j - 1] = roundedKarras ? t : (float)t;
            _timesteps[2 * j] = timesteps[j];
        }

        InitNoiseSigma = KDpm2Layout.InitialSigma(Config, sigmas[0]);
    }

    public void ScaleModelInput(ReadOnlySpan<float> sample, Span<float> destination, int stepIndex)
    {
        var sigma = stepIndex % 2 == 0 ? _sigmas[stepIndex] : _interpolated[stepIndex - 1];
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
            _noiseBuffer = new float[sample.Length];
        }

        var firstOrder = stepIndex % 2 == 0;
        var at = firstOrder ? stepIndex : stepIndex - 1;
        var sigma = _sigmas[at];
        var midpoint = _interpolated[at];
        var sigmaInput = firstOrder ? sigma : midpoint;
        var (vOut, vIn) = SigmaSchedule.VScalings(sigmaInput);
        var vPrediction = Config.IsVPrediction;
        var dt = firstOrder ? midpoint - sigma : _down[at] - sigma;
        if (!firstOrder)
        {
            ArgumentNullException.ThrowIfNull(noise);
        }

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

        if (!firstOrder)
        {
            // diffusers draws after the deterministic part of the second-order call.
            noise!(_noiseBuffer);
            var sigmaUp = _up[at];
            for (var k = 0; k < sample.Length; k++)
            {
                sample[k] += _noiseBuffer[k] * sigmaUp;
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
