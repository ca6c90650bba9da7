namespace StableDiffusion.Core.Schedulers;

/// <summary>The float64 NumPy steps of diffusers' sigma schedules: <c>np.interp</c> over the training sigmas, the Karras
/// et al. (2022) ρ = 7 ramp, and <c>_sigma_to_t</c>.</summary>
internal static class SigmaInterpolation
{
    /// <summary><c>np.interp(t, arange(len(sigmas)), sigmas)</c>, which returns the knot value exactly at integer t.</summary>
    public static double Interpolate(double t, float[] trainSigmas)
    {
        if (t <= 0)
        {
            return trainSigmas[0];
        }

        if (t >= trainSigmas.Length - 1)
        {
            return trainSigmas[^1];
        }

        var j = (int)Math.Floor(t);
        if (t == j)
        {
            return trainSigmas[j];
        }

        return ((double)trainSigmas[j + 1] - trainSigmas[j]) * (t - j) + trainSigmas[j];
    }

    /// <summary>Karras et al. (arXiv:2206.00364, eq. 5) with ρ = 7, from σ_max down to σ_min in <paramref name="steps"/> values.</summary>
    public static double[] Karras(double sigmaMin, double sigmaMax, int steps)
    {
        const double rho = 7.0;
        var ramp = TimestepSpacing.NumPyLinspace(0, 1, steps);
        var minInvRho = Math.Pow(sigmaMin, 1 / rho);
        var maxInvRho = Math.Pow(sigmaMax, 1 / rho);
        var sigmas = new double[steps];
        for (var i = 0; i < steps; i++)
        {
            sigmas[i] = Math.Pow(maxInvRho + ramp[i] * (minInvRho - maxInvRho), rho);
        }

        return sigmas;
    }

    /// <summary>diffusers' <c>_convert_to_exponential</c>: exp(np.linspace(ln σ_max, ln σ_min, steps)).</summary>
    public static double[] Exponential(double sigmaMin, double sigmaMax, int steps)
    {
        var ramp = TimestepSpacing.NumPyLinspace(Math.Log(sigmaMax), Math.Log(sigmaMin), steps);
        return Array.ConvertAll(ramp, Math.Exp);
    }

    /// <summary>diffusers' <c>_sigma_to_t</c>: the fractional timestep whose log-sigma, linearly interpolated, equals log σ.</summary>
    /// <param name="logSigmas">log of the training sigmas, as float (NumPy keeps the float32 dtype of the torch sigmas).</param>
    public static double SigmaToT(double sigma, float[] logSigmas)
    {
        var logSigma = Math.Log(Math.Max(sigma, 1e-10));
        var count = 0;
        foreach (var ls in logSigmas)
        {
            if (logSigma - ls >= 0)
            {
                count++;
            }
        }

        var low = Math.Min(Math.Max(count - 1, 0), logSigmas.Length - 2);
        var lowValue = logSigmas[low];
        var highValue = logSigmas[low + 1];
        var w = (lowValue - logSigma) / (lowValue - highValue);
        w = Math.Clamp(w, 0, 1);
        return (1 - w) * low + w * (low + 1);
    }
}
