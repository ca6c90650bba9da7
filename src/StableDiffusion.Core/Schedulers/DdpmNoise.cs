namespace StableDiffusion.Core.Schedulers;

/// <summary>diffusers' DDPM-style <c>add_noise</c> (PNDM, DDIM): √ᾱ_t·x + √(1−ᾱ_t)·n, in float like its tensors.</summary>
internal static class DdpmNoise
{
    public static void Add(NoiseSchedule schedule, int timestep, ReadOnlySpan<float> original, ReadOnlySpan<float> noise, Span<float> destination)
    {
        var alphaProd = schedule.AlphasCumprod[timestep];
        var sqrtAlpha = MathF.Sqrt(alphaProd);
        var sqrtOneMinusAlpha = MathF.Sqrt(1f - alphaProd);
        for (var k = 0; k < destination.Length; k++)
        {
            destination[k] = sqrtAlpha * original[k] + sqrtOneMinusAlpha * noise[k];
        }
    }
}
