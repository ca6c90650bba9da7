namespace StableDiffusion.Core.Schedulers;

/// <summary>diffusers' <c>PNDMScheduler</c> with <c>skip_prk_steps</c>: the PLMS sampler (Liu et al., arXiv:2202.09778,
/// eq. 9 and 12; crowsonkb's variant from CompVis/latent-diffusion#51). Replicate name PNDM.</summary>
/// <remarks>
/// N steps make N + 1 model calls: the first timestep appears twice (981, 961, 961, 941, … for SD with 50 steps). Call 0
/// takes an Euler-like step and remembers the sample; call 1 re-does that step from the remembered sample with the mean of
/// both model outputs (a Heun step), after which linear multistep formulas of order 2, 3, 4 follow. As in diffusers, that
/// schedule is keyed to the number of calls since <see cref="SetTimesteps"/>, not to the step index, so a run that starts
/// late (img2img) repeats its first interval and then skips one — diffusers' behaviour, reproduced on purpose.
/// The Runge–Kutta warm-up of <c>skip_prk_steps = false</c> is not implemented; such configs also run as PLMS.
/// </remarks>
public sealed class PndmScheduler : IScheduler
{
    private const int MaxHistory = 4;

    private readonly NoiseSchedule _noise;
    private readonly float[][] _ets = new float[MaxHistory][];
    private double[] _timesteps = [];
    private float[] _currentSample = [];
    private int _steps;
    private int _counter;
    private int _etsCount;
    private int _newest = -1;

    public PndmScheduler(SchedulerConfig config)
    {
        Config = config;
        _noise = new NoiseSchedule(config);
    }

    public string Name => "PNDM";

    public SchedulerConfig Config { get; }

    public IReadOnlyList<double> Timesteps => _timesteps;

    public IReadOnlyList<double> Sigmas => [];

    public double InitNoiseSigma => 1.0;

    public void SetTimesteps(int numInferenceSteps)
    {
        _steps = numInferenceSteps;
        var descending = TimestepSpacing.Descending(Config, numInferenceSteps, roundLinspace: true);

        // plms_timesteps = concat(_timesteps[:-1], _timesteps[-2:-1], _timesteps[-1:])[::-1]: descending, with the
        // second value repeated (981, 961, 961, 941, …).
        var timesteps = new double[numInferenceSteps == 1 ? 1 : numInferenceSteps + 1];
        timesteps[0] = descending[0];
        for (var i = 1; i < timesteps.Length; i++)
        {
            timesteps[i] = descending[Math.Max(i - 1, 1)];
        }

        _timesteps = timesteps;
        _counter = 0;
        _etsCount = 0;
        _newest = -1;
    }

    public void ScaleModelInput(ReadOnlySpan<float> sample, Span<float> destination, int stepIndex) => sample.CopyTo(destination);

    public void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, NoiseFill? noise)
    {
        if (_steps == 0)
        {
            throw new InvalidOperationException("Call SetTimesteps before Step.");
        }

        var ratio = Config.NumTrainTimesteps / _steps;
        var timestep = (int)_timesteps[stepIndex];
        var prevTimestep = timestep - ratio;
        EnsureHistory(sample.Length);
        if (_counter != 1)
        {
            _newest = (_newest + 1) % MaxHistory;
            modelOutput.CopyTo(_ets[_newest]);
            _etsCount = Math.Min(_etsCount + 1, MaxHistory);
        }
        else
        {
            prevTimestep = timestep;
            // With as many steps as training timesteps this would reach alphas_cumprod[1000] (diffusers: IndexError).
            timestep = Math.Min(timestep + ratio, Config.NumTrainTimesteps - 1);
        }

        var alphaProd = _noise.AlphasCumprod[timestep];
        var alphaProdPrev = _noise.AlphaCumprodOrFinal(prevTimestep);
        var betaProd = 1f - alphaProd;
        var betaProdPrev = 1f - alphaProdPrev;
        var sqrtAlpha = MathF.Sqrt(alphaProd);
        var sqrtBeta = MathF.Sqrt(betaProd);

        // Formula (9) of the PNDM paper, rearranged as in diffusers' _get_prev_sample.
        var sampleCoeff = MathF.Sqrt(alphaProdPrev / alphaProd);
        var denominator = alphaProd * MathF.Sqrt(betaProdPrev) + MathF.Sqrt(alphaProd * betaProd * alphaProdPrev);
        var difference = alphaProdPrev - alphaProd;
        var vPrediction = Config.IsVPrediction;

        if (_etsCount == 1 && _counter == 0)
        {
            sample.CopyTo(_currentSample);
        }

        var e1 = _newest >= 0 ? _ets[_newest] : null;
        var e2 = _etsCount >= 2 ? _ets[(_newest + 3) % MaxHistory] : null;
        var e3 = _etsCount >= 3 ? _ets[(_newest + 2) % MaxHistory] : null;
        var e4 = _etsCount >= 4 ? _ets[(_newest + 1) % MaxHistory] : null;
        var redo = _etsCount == 1 && _counter == 1;
        const float oneTwentyFourth = 1f / 24f;

        for (var k = 0; k < sample.Length; k++)
        {
            float m;
            float s;
            if (redo)
            {
                m = (modelOutput[k] + e1![k]) / 2f;
                s = _currentSample[k];
            }
            else
            {
                s = sample[k];
                m = _etsCount switch
                {
                    1 => modelOutput[k],
                    2 => (3f * e1![k] - e2![k]) / 2f,
                    3 => (23f * e1![k] - 16f * e2![k] + 5f * e3![k]) / 12f,
                    _ => oneTwentyFourth * (55f * e1![k] - 59f * e2![k] + 37f * e3![k] - 9f * e4![k]),
                };
            }

            if (vPrediction)
            {
                m = sqrtAlpha * m + sqrtBeta * s;
            }

            sample[k] = sampleCoeff * s - difference * m / denominator;
        }

        _counter++;
    }

    public void AddNoise(ReadOnlySpan<float> original, ReadOnlySpan<float> noise, int stepIndex, Span<float> destination) =>
        DdpmNoise.Add(_noise, (int)_timesteps[stepIndex], original, noise, destination);

    private void EnsureHistory(int length)
    {
        if (_currentSample.Length != length)
        {
            _currentSample = new float[length];
            for (var i = 0; i < MaxHistory; i++)
            {
                _ets[i] = new float[length];
            }
        }
    }
}
