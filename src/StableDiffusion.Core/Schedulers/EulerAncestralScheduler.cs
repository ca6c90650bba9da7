namespace StableDiffusion.Core.Schedulers;

/// <summary>diffusers' <c>EulerAncestralDiscreteScheduler</c>: an Euler step down to σ_down followed by fresh noise of
/// σ_up (k-diffusion's <c>sample_euler_ancestral</c> with η = 1). Replicate name K_EULER_ANCESTRAL.</summary>
public sealed class EulerAncestralScheduler : IScheduler
{
    private readonly SigmaSchedule _schedule;
    private float[] _noise = [];

    public EulerAncestralScheduler(SchedulerConfig config)
    {
        Config = config;

        // diffusers' EulerAncestralDiscreteScheduler has no Karras/exponential option: from_config drops those keys. An
        // A1111 schedule type (ScheduleType, Karras included) is kept: A1111's Euler a runs any of them.
        _schedule = new SigmaSchedule(config with { UseKarrasSigmas = false, UseExponentialSigmas = false });
    }

    public string Name => "K_EULER_ANCESTRAL";

    public SchedulerConfig Config { get; }

    public IReadOnlyList<double> Timesteps => _schedule.Timesteps;

    public IReadOnlyList<double> Sigmas => _schedule.SigmasAsDouble;

    public double InitNoiseSigma => _schedule.InitNoiseSigma;

    public void SetTimesteps(int numInferenceSteps) => _schedule.SetTimesteps(numInferenceSteps);

    public void ScaleModelInput(ReadOnlySpan<float> sample, Span<float> destination, int stepIndex) =>
        _schedule.ScaleModelInput(sample, destination, stepIndex);

    public void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, NoiseFill? noise)
    {
        ArgumentNullException.ThrowIfNull(noise);
        if (_noise.Length != sample.Length)
        {
            _noise = new float[sample.Length];
        }

        // diffusers draws the noise after the deterministic part; the order matters only for who consumes the generator.
        noise(_noise);

        var sigma = _schedule.Sigmas[stepIndex];
        var (vOut, vIn) = SigmaSchedule.VScalings(sigma);
        var sigmaTo = _schedule.Sigmas[stepIndex + 1];
        var to2 = sigmaTo * sigmaTo;
        var from2 = sigma * sigma;
        var sigmaUp = MathF.Sqrt(to2 * (from2 - to2) / from2);
        var sigmaDown = MathF.Sqrt(to2 - sigmaUp * sigmaUp);
        var dt = sigmaDown - sigma;
        for (var k = 0; k < sample.Length; k++)
        {
            var s = sample[k];
            var denoised = _schedule.PredictOriginal(modelOutput[k], s, sigma, vOut, vIn);
            var derivative = (s - denoised) / sigma;
            var prev = s + derivative * dt;
            sample[k] = prev + _noise[k] * sigmaUp;
        }
    }

    public void AddNoise(ReadOnlySpan<float> original, ReadOnlySpan<float> noise, int stepIndex, Span<float> destination) =>
        _schedule.AddNoise(original, noise, stepIndex, destination);
}
