namespace StableDiffusion.Core.Schedulers;

/// <summary>The training noise schedule of a config: betas, cumulative alpha products ᾱ_t and sigmas √((1−ᾱ_t)/ᾱ_t).</summary>
/// <remarks>
/// diffusers builds these as float32 torch tensors on the CPU, and every scheduler output inherits that rounding: a
/// float64 computation gives σ_max = 14.614641 instead of 14.614647 (up to 1.3e-5 relative over the schedule), and a
/// float32-accumulated cumprod 14.614653. So we mirror torch: <c>torch.linspace</c>'s float formula, <c>1 − β</c> in float, <c>cumprod</c> accumulated in double
/// (torch's CPU accumulate type for float) and stored as float, and σ computed with float operations.
/// </remarks>
internal sealed class NoiseSchedule
{
    public NoiseSchedule(SchedulerConfig config)
    {
        config.Validate();
        var n = config.NumTrainTimesteps;
        var betas = config.BetaSchedule == "linear"
            ? TorchLinspace(config.BetaStart, config.BetaEnd, n)
            : TorchLinspace(Math.Sqrt(config.BetaStart), Math.Sqrt(config.BetaEnd), n);
        if (config.BetaSchedule == "scaled_linear")
        {
            for (var i = 0; i < n; i++)
            {
                betas[i] *= betas[i];
            }
        }

        var alphasCumprod = new float[n];
        var sigmas = new float[n];
        var product = 1.0;
        for (var i = 0; i < n; i++)
        {
            product *= 1f - betas[i];
            alphasCumprod[i] = (float)product;
            sigmas[i] = MathF.Sqrt((1f - alphasCumprod[i]) / alphasCumprod[i]);
        }

        Betas = betas;
        AlphasCumprod = alphasCumprod;
        Sigmas = sigmas;
        FinalAlphaCumprod = config.SetAlphaToOne ? 1f : alphasCumprod[0];
    }

    public float[] Betas { get; }

    /// <summary>ᾱ_t for t = 0 … num_train_timesteps − 1.</summary>
    public float[] AlphasCumprod { get; }

    /// <summary>The training sigmas √((1−ᾱ_t)/ᾱ_t), indexed by timestep (ascending).</summary>
    public float[] Sigmas { get; }

    /// <summary>ᾱ used "before" timestep 0 by PNDM and DDIM (<c>set_alpha_to_one</c> ? 1 : ᾱ_0).</summary>
    public float FinalAlphaCumprod { get; }

    /// <summary>ᾱ at an integer timestep, or <see cref="FinalAlphaCumprod"/> for a negative one (diffusers' prev_timestep rule).</summary>
    public float AlphaCumprodOrFinal(int timestep) => timestep >= 0 ? AlphasCumprod[timestep] : FinalAlphaCumprod;

    /// <summary>diffusers' <c>_sigma_to_alpha_sigma_t</c> for the variance-preserving schedule, in float like its 0-d tensors.</summary>
    public static (float Alpha, float Sigma) AlphaSigma(float sigma)
    {
        var alpha = 1f / MathF.Sqrt(sigma * sigma + 1f);
        return (alpha, sigma * alpha);
    }

    /// <summary><c>torch.linspace(start, end, n, dtype=float32)</c> on the CPU: the step is computed in float and the
    /// first half counts up from <paramref name="start"/>, the second half down from <paramref name="end"/>.</summary>
    /// <remarks>torch's vectorised kernel can differ from this scalar formula in the last bit of a few values; the effect on
    /// ᾱ is far below the tolerances we test.</remarks>
    internal static float[] TorchLinspace(double start, double end, int n)
    {
        var values = new float[n];
        var s = (float)start;
        var e = (float)end;
        if (n == 1)
        {
            values[0] = s;
            return values;
        }

        var step = (e - s) / (n - 1);
        var half = n / 2;
        for (var i = 0; i < n; i++)
        {
            values[i] = i < half ? s + step * i : e - step * (n - i - 1);
        }

        return values;
    }
}
