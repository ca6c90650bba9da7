using MathNet.Numerics.Distributions;

namespace StableDiffusion.Core.Schedulers;

/// <summary>
/// AUTOMATIC1111's schedule types (modules/sd_schedulers.py, 1.9+): the σ ramp a k-diffusion sampler runs, computed
/// over the model's training sigmas as A1111's k-diffusion wrapper sees them (σ_min = σ(t=0), σ_max = σ(t=999)).
/// A sampler that takes a σ schedule runs the ramp's <c>n</c> values and then its own final σ (0 for the Euler family),
/// its timesteps coming back through <c>_sigma_to_t</c>. <c>karras</c> and <c>exponential</c> keep diffusers' flags
/// where the scheduler has them (<see cref="SchedulerFactory.Create"/>); the ramps here serve every other pair.
/// </summary>
public static class ScheduleTypes
{
    /// <summary>A1111's <c>opts.beta_dist_alpha</c> / <c>beta_dist_beta</c> defaults (arXiv:2407.12173).</summary>
    private const double BetaAlpha = 0.6;
    private const double BetaBeta = 0.6;

    // Align Your Steps' SD 1.5 sigmas (A1111's get_align_your_steps_sigmas; NVIDIA's how-to page); A1111 uses them for
    // every non-SDXL model, SD 2.x included.
    private static readonly double[] AlignYourStepsSd15 = [14.615, 6.475, 3.861, 2.697, 1.886, 1.396, 0.963, 0.652, 0.399, 0.152, 0.029];

    /// <summary>A1111's schedulers list: name, label (what infotexts write), in its order.</summary>
    public static IReadOnlyList<(string Name, string Label)> All { get; } =
    [
        ("automatic", "Automatic"), ("uniform", "Uniform"), ("karras", "Karras"), ("exponential", "Exponential"),
        ("polyexponential", "Polyexponential"), ("sgm_uniform", "SGM Uniform"), ("kl_optimal", "KL Optimal"),
        ("align_your_steps", "Align Your Steps"), ("simple", "Simple"), ("normal", "Normal"), ("ddim", "DDIM"), ("beta", "Beta"),
    ];

    /// <summary>The ramps computed here (every type but automatic).</summary>
    public static bool IsRamp(string? name) => name is not null && name != "automatic" && Find(name) is not null;

    /// <summary>The canonical name for an A1111 name, label or alias (case-insensitive); null when unknown.</summary>
    public static string? Find(string nameOrLabel)
    {
        var value = nameOrLabel.Trim();
        // A1111's alias for SGM Uniform, and the name the issue trackers (and ComfyUI) give A1111's "DDIM" type.
        if (value.Equals("SGMUniform", StringComparison.OrdinalIgnoreCase))
        {
            return "sgm_uniform";
        }

        if (value.Equals("ddim_uniform", StringComparison.OrdinalIgnoreCase))
        {
            return "ddim";
        }

        foreach (var (name, label) in All)
        {
            if (value.Equals(name, StringComparison.OrdinalIgnoreCase) || value.Equals(label, StringComparison.OrdinalIgnoreCase))
            {
                return name;
            }
        }

        return null;
    }

    /// <summary>The label A1111 writes as "Schedule type" (the name itself when unknown).</summary>
    public static string Label(string name)
    {
        foreach (var (n, label) in All)
        {
            if (n == name)
            {
                return label;
            }
        }

        return name;
    }

    /// <summary>The <paramref name="steps"/> sigmas of the ramp, descending, without A1111's final one (0, or σ_min for
    /// KL Optimal: the sampler's own final σ replaces it).</summary>
    /// <param name="trainSigmas">σ at each training timestep, ascending (<see cref="NoiseSchedule.Sigmas"/>).</param>
    public static double[] Sigmas(string name, float[] trainSigmas, int steps)
    {
        double sigmaMin = trainSigmas[0], sigmaMax = trainSigmas[^1];
        var logSigmas = Array.ConvertAll(trainSigmas, MathF.Log);
        int last = trainSigmas.Length - 1;
        return name switch
        {
            // k-diffusion's DiscreteSchedule.get_sigmas: t_to_sigma over linspace(t_max, 0, n). "normal" is the same
            // linspace between sigma_to_t(σ_max) = t_max and sigma_to_t(σ_min) = 0.
            "uniform" or "normal" => Array.ConvertAll(TimestepSpacing.NumPyLinspace(last, 0, steps), t => TToSigma(t, logSigmas)),
            "sgm_uniform" => Array.ConvertAll(TimestepSpacing.NumPyLinspace(last, 0, steps + 1)[..steps], t => TToSigma(t, logSigmas)),
            "karras" => SigmaInterpolation.Karras(sigmaMin, sigmaMax, steps),
            // k-diffusion's get_sigmas_polyexponential with A1111's default ρ = 1, which is the exponential ramp.
            "exponential" or "polyexponential" => SigmaInterpolation.Exponential(sigmaMin, sigmaMax, steps),
            "kl_optimal" => KlOptimal(sigmaMin, sigmaMax, steps),
            "align_your_steps" => AlignYourSteps(steps),
            "simple" => Simple(trainSigmas, steps),
            "ddim" => DdimUniform(trainSigmas, steps),
            "beta" => BetaRamp(sigmaMin, sigmaMax, steps),
            _ => throw new ArgumentException($"Unknown schedule type '{name}'; one of {string.Join(", ", All.Select(a => a.Name))}.", nameof(name)),
        };
    }

    /// <summary>k-diffusion's <c>t_to_sigma</c>: log-σ interpolated linearly between the neighbouring timesteps.</summary>
    private static double TToSigma(double t, float[] logSigmas)
    {
        int low = (int)Math.Floor(t), high = (int)Math.Ceiling(t);
        var w = t - low;
        return Math.Exp((1 - w) * logSigmas[low] + w * logSigmas[high]);
    }

    /// <summary>tan of a linear ramp in arctan σ (Sabour et al., "Align Your Steps" KL-optimal schedule).</summary>
    private static double[] KlOptimal(double sigmaMin, double sigmaMax, int steps)
    {
        double alphaMin = Math.Atan(sigmaMin), alphaMax = Math.Atan(sigmaMax);
        var sigmas = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            double f = (double)i / steps;
            sigmas[i] = Math.Tan(f * alphaMin + (1.0 - f) * alphaMax);
        }

        return sigmas;
    }

    /// <summary>The 11 published sigmas, log-linearly interpolated to <paramref name="steps"/> when that differs.</summary>
    private static double[] AlignYourSteps(int steps)
    {
        if (steps == AlignYourStepsSd15.Length)
        {
            return (double[])AlignYourStepsSd15.Clone();
        }

        // np.interp over ascending log σ at linspace(0, 1) knots, then reversed.
        int knots = AlignYourStepsSd15.Length;
        var sigmas = new double[steps];
        var xs = TimestepSpacing.NumPyLinspace(0, 1, steps);
        for (int i = 0; i < steps; i++)
        {
            double position = xs[i] * (knots - 1);
            int j = Math.Min((int)Math.Floor(position), knots - 2);
            double w = position - j;
            double lowLog = Math.Log(AlignYourStepsSd15[knots - 1 - j]), highLog = Math.Log(AlignYourStepsSd15[knots - 2 - j]);
            sigmas[steps - 1 - i] = Math.Exp(lowLog + w * (highLog - lowLog));
        }

        return sigmas;
    }

    /// <summary>A1111's simple_scheduler: every (1000/n)-th training σ from the top.</summary>
    private static double[] Simple(float[] trainSigmas, int steps)
    {
        double stride = (double)trainSigmas.Length / steps;
        var sigmas = new double[steps];
        for (int x = 0; x < steps; x++)
        {
            sigmas[x] = trainSigmas[trainSigmas.Length - 1 - (int)(x * stride)];
        }

        return sigmas;
    }

    /// <summary>A1111's ddim_scheduler: training σ at 1, 1 + s, 1 + 2s, … (s = 1000 // n), descending. When 1000 // n
    /// leaves room for one more point A1111 gets n + 1 of them and runs a step more; we keep the n highest.</summary>
    private static double[] DdimUniform(float[] trainSigmas, int steps)
    {
        int stride = Math.Max(trainSigmas.Length / steps, 1);
        var points = new List<double>();
        for (int x = 1; x < trainSigmas.Length; x += stride)
        {
            points.Add(trainSigmas[x]);
        }

        points.Reverse();
        var sigmas = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            // Fewer points than steps only when n > 999: repeat the lowest.
            sigmas[i] = points[Math.Min(i, points.Count - 1)];
        }

        return sigmas;
    }

    /// <summary>"Beta Sampling is All You Need" (arXiv:2407.12173): σ_min + ppf(1 − i/(n−1)) · (σ_max − σ_min), with
    /// the Beta(0.6, 0.6) quantile (scipy's stats.beta.ppf in A1111; Math.NET's inverse CDF here).</summary>
    private static double[] BetaRamp(double sigmaMin, double sigmaMax, int steps)
    {
        var ramp = TimestepSpacing.NumPyLinspace(0, 1, steps);
        // The quantile's ends are exactly 0 and 1; the root finder is only asked for the inside.
        return Array.ConvertAll(ramp, r => sigmaMin + (r <= 0 ? 1 : r >= 1 ? 0 : Beta.InvCDF(BetaAlpha, BetaBeta, 1 - r)) * (sigmaMax - sigmaMin));
    }
}
