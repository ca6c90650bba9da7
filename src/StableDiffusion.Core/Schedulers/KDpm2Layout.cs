namespace StableDiffusion.Core.Schedulers;

/// <summary>The schedule layout shared by diffusers' two KDPM2 schedulers.</summary>
internal static class KDpm2Layout
{
    /// <summary><c>torch.cat([x[:1], x[1:].repeat_interleave(2), x[-1:]])</c>.</summary>
    public static float[] Repeat(float[] values)
    {
        var result = new float[2 * values.Length];
        result[0] = values[0];
        for (var j = 1; j < values.Length; j++)
        {
            result[2 * j - 1] = result[2 * j] = values[j];
        }

        result[^1] = values[^1];
        return result;
    }

    /// <summary><c>a.log().lerp(b.log(), 0.5).exp()</c> in float: torch's lerp with weight ½ is end − (end − start)·½
    /// (the halving is exact); a zero <paramref name="a"/> gives ln 0 = −∞ and a midpoint of 0, as in torch.</summary>
    public static float GeometricMidpoint(float a, float b)
    {
        var start = MathF.Log(a);
        var end = MathF.Log(b);
        return MathF.Exp(end - (end - start) * 0.5f);
    }

    /// <summary>init_noise_sigma: σ_max for linspace/trailing spacing, √(σ_max² + 1) for leading.</summary>
    public static double InitialSigma(SchedulerConfig config, float max) =>
        config.TimestepSpacing is TimestepSpacing.Linspace or TimestepSpacing.Trailing ? max : MathF.Sqrt(max * max + 1f);
}
