using StableDiffusion.Core.Schedulers;

namespace StableDiffusion.Core.Pipelines;

/// <summary>
/// The x4 upscaler's <c>low_res_scheduler</c> (a DDPMScheduler used only for <c>add_noise</c>): noises the low-res
/// conditioning image at <c>noise_level</c>: √ᾱ_t·x + √(1 − ᾱ_t)·ε with t = noise_level.
/// </summary>
/// <remarks>ᾱ comes from the same torch-faithful <see cref="NoiseSchedule"/> as the schedulers' (float32 betas from
/// <c>torch.linspace</c>, squared for <c>scaled_linear</c>; cumprod).</remarks>
public sealed class LowResNoise
{
    private readonly float[] _alphasCumprod;

    public LowResNoise(SchedulerConfig config)
    {
        try
        {
            _alphasCumprod = new NoiseSchedule(config).AlphasCumprod;
        }
        catch (NotSupportedException ex)
        {
            throw new Models.ModelLoadException($"low_res_scheduler: {ex.Message}", ex);
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
}
