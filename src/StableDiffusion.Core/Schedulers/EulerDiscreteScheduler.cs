namespace StableDiffusion.Core.Schedulers;

/// <summary>diffusers' <c>EulerDiscreteScheduler</c> (Karras et al. 2022, Algorithm 2 with s_churn = 0): a first-order
/// Euler step of the probability-flow ODE in σ. Replicate name K_EULER.</summary>
/// <remarks>Honours <c>use_karras_sigmas</c> and <c>use_exponential_sigmas</c> (<see cref="SigmaSchedule.Compute"/>).</remarks>
public sealed class EulerDiscreteScheduler : IScheduler
{
    private readonly SigmaSchedule _schedule;

    public EulerDiscreteScheduler(SchedulerConfig config)
    {
        Config = config;
        _schedule = new SigmaSchedule(config);
    }

    public string Name => "K_EULER";

    public SchedulerConfig Config { get; }

    public IReadOnlyList<double> Timesteps => _schedule.Timesteps;

    public IReadOnlyList<double> Sigmas => _schedule.SigmasAsDouble;

    public double InitNoiseSigma => _schedule.InitNoiseSigma;

    public void SetTimesteps(int numInferenceSteps) => _schedule.SetTimesteps(numInferenceSteps);

    public void ScaleModelInput(ReadOnlySpan<float> sample, Span<float> destination, int stepIndex) =>
        _schedule.ScaleModelInput(sample, destination, stepIndex);

    public void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, NoiseFill? noise)
    {
        var sigma = _schedule.Sigmas[stepIndex];
        var (vOut, vIn) = SigmaSchedule.VScalings(sigma);
        var dt = _schedule.Sigmas[stepIndex + 1] - sigma;
        for (var k = 0; k < sample.Length; k++)
        {
            var s = sample[k];
            var denoised = _schedule.PredictOriginal(modelOutput[k], s, sigma, vOut, vIn);
            var derivative = (s - denoised) / sigma;
            sample[k] = s + derivative * dt;
        }
    }

    public void AddNoise(ReadOnlySpan<float> original, ReadOnlySpan<float> noise, int stepIndex, Span<float> destination) =>
        _schedule.AddNoise(original, noise, stepIndex, destination);
}
