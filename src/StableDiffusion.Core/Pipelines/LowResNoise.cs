using StableDiffusion.Core.Schedulers;

namespace StableDiffusion.Core.Pipelines;

/// <summary>
/// The x4 upscaler's <c>low_res_scheduler</c> (a DDPMScheduler used only for <c>add_noise</c>): noises the low-res
/// conditioning image at <c>noise_level</c>: √ᾱ_t·x + √(1 − ᾱ_t)·ε with t = noise_level.
/// </summary>
/// <remarks>ᾱ is computed as diffusers does, in float32: betas = linspace(√β₀, √β₁, T)² for <c>scaled_linear</c>
/// (linspace(β₀, β₁, T) for <c>linear</c>), ᾱ = cumprod(1 − β).</remarks>
public sealed class LowResNoise
{
    private readonly float[] _alphasCumprod;

    public LowResNoise(SchedulerConfig config)
    {
        int n = config.NumTrainTimesteps;
        _alphasCumprod = new float[n];
        float product = 1f;
        for (int i = 0; i < n; i++)
        {
            double fraction = n == 1 ? 0 : (double)i / (n - 1);
            float beta = config.BetaSchedule switch
            {
                "linear" => (float)(config.BetaStart + fraction * (config.BetaEnd - config.BetaStart)),
                "scaled_linear" => Squared((float)(Math.Sqrt(config.BetaStart) + fraction * (Math.Sqrt(config.BetaEnd) - Math.Sqrt(config.BetaStart)))),
                _ => throw new NotSupportedException($"low_res_scheduler: beta_schedule '{config.BetaSchedule}' is not supported (linear, scaled_linear)."),
            };
            product *= 1f - beta;
            _alphasCumprod[i] = product;
        }
    }

    public int MaxTimestep => _alphasCumprod.Length - 1;

    public float AlphaCumprod(int timestep) => _alphasCumprod[timestep];

    public void Add(ReadOnlySpan<float> original, ReadOnlySpan<float> noise, int noiseLevel, Span<float> destination)
    {
        float alpha = _alphasCumprod[noiseLevel];
        float sqrtAlpha = MathF.Sqrt(alpha), sqrtOneMinus = MathF.Sqrt(1f - alpha);
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = sqrtAlpha * original[i] + sqrtOneMinus * noise[i];
        }
    }

    private static float Squared(float x) => x * x;
}
