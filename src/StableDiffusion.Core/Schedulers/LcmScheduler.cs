namespace StableDiffusion.Core.Schedulers;

/// <summary>diffusers' <c>LCMScheduler</c> (Luo et al., arXiv:2310.04378, multistep consistency sampling): each call maps
/// the sample to its consistency-model estimate c_skip·x + c_out·x̂₀, then re-noises it to the next timestep with fresh
/// noise from the job's generator (not after the last call). Replicate-style name LCM, A1111 "LCM". Meant for
/// LCM-distilled models (LCM-LoRA, LCM checkpoints), usually 2–8 steps with guidance ≤ 2.</summary>
/// <remarks>
/// Timesteps: the <c>original_inference_steps</c> (50) training timesteps k·i − 1 (k = num_train_timesteps // 50),
/// reversed and subsampled at floor(linspace(0, 50, steps, endpoint=False)); at most 50 steps. The boundary scalings use
/// the float32 scaled timestep t·timestep_scaling (10) and σ_data = ½, as diffusers computes them on its tensors.
/// </remarks>
public sealed class LcmScheduler : IScheduler
{
    private const float SigmaData = 0.5f;
    private readonly NoiseSchedule _noise;
    private double[] _timesteps = [];
    private float[] _noiseBuffer = [];

    public LcmScheduler(SchedulerConfig config)
    {
        Config = config;
        _noise = new NoiseSchedule(config);
    }

    public string Name => "LCM";

    public SchedulerConfig Config { get; }

    public IReadOnlyList<double> Timesteps => _timesteps;

    public IReadOnlyList<double> Sigmas => [];

    public double InitNoiseSigma => 1.0;

    public void SetTimesteps(int numInferenceSteps)
    {
        var original = Config.OriginalInferenceSteps;
        var k = Config.NumTrainTimesteps / original;
        if (numInferenceSteps < 1 || numInferenceSteps > original || k < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(numInferenceSteps), numInferenceSteps,
                $"LCM takes between 1 and original_inference_steps ({original}) steps.");
        }

        _timesteps = new double[numInferenceSteps];
        var spacing = (double)original / numInferenceSteps;
        for (var i = 0; i < numInferenceSteps; i++)
        {
            // lcm_origin_timesteps reversed: position p holds (original − p)·k − 1.
            var position = (int)Math.Floor(i * spacing);
            _timesteps[i] = (original - position) * k - 1;
        }
    }

    public void ScaleModelInput(ReadOnlySpan<float> sample, Span<float> destination, int stepIndex) => sample.CopyTo(destination);

    public void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, NoiseFill? noise)
    {
        var timestep = (int)_timesteps[stepIndex];
        var last = stepIndex == _timesteps.Length - 1;
        var previous = last ? timestep : (int)_timesteps[stepIndex + 1];
        var alphaProd = _noise.AlphasCumprod[timestep];
        var alphaProdPrev = _noise.AlphaCumprodOrFinal(previous);
        var sqrtAlpha = MathF.Sqrt(alphaProd);
        var sqrtBeta = MathF.Sqrt(1f - alphaProd);

        var scaled = timestep * (float)Config.TimestepScaling;
        var cSkip = SigmaData * SigmaData / (scaled * scaled + SigmaData * SigmaData);
        var cOut = scaled / MathF.Sqrt(scaled * scaled + SigmaData * SigmaData);

        if (!last)
        {
            ArgumentNullException.ThrowIfNull(noise);
            if (_noiseBuffer.Length != sample.Length)
            {
                _noiseBuffer = new float[sample.Length];
            }

            noise(_noiseBuffer);
        }

        var sqrtAlphaPrev = MathF.Sqrt(alphaProdPrev);
        var sqrtBetaPrev = MathF.Sqrt(1f - alphaProdPrev);
        var vPrediction = Config.IsVPrediction;
        var clip = Config.ClipSample;
        var range = (float)Config.ClipSampleRange;
        for (var j = 0; j < sample.Length; j++)
        {
            var s = sample[j];
            var original = vPrediction ? sqrtAlpha * s - sqrtBeta * modelOutput[j] : (s - sqrtBeta * modelOutput[j]) / sqrtAlpha;
            if (clip)
            {
                original = Math.Clamp(original, -range, range);
            }

            var denoised = cOut * original + cSkip * s;
            sample[j] = last ? denoised : sqrtAlphaPrev * denoised + sqrtBetaPrev * _noiseBuffer[j];
        }
    }

    public void AddNoise(ReadOnlySpan<float> original, ReadOnlySpan<float> noise, int stepIndex, Span<float> destination) =>
        DdpmNoise.Add(_noise, (int)_timesteps[stepIndex], original, noise, destination);
}
