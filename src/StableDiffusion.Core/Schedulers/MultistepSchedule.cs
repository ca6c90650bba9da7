namespace StableDiffusion.Core.Schedulers;

/// <summary>The timesteps and sigmas of diffusers' multistep solvers (DPMSolverMultistep, UniPCMultistep, DEISMultistep):
/// integer timesteps over steps + 1 intervals with the last dropped, sigmas interpolated at them — or a Karras (timesteps
/// rounded) or exponential (timesteps truncated by the int64 cast) ramp over the whole training range.</summary>
internal static class MultistepSchedule
{
    /// <param name="clipped">Training timesteps cut by DPM-Solver's <c>lambda_min_clipped</c> (0 for the others).</param>
    public static (double[] Timesteps, double[] Sigmas) Compute(SchedulerConfig config, NoiseSchedule noise, int steps, int clipped = 0)
    {
        var train = noise.Sigmas;
        if (config.ScheduleType is { } scheduleType)
        {
            // Integer timesteps, rounded as diffusers rounds its Karras ones for these solvers.
            var sigmas = ScheduleTypes.Sigmas(scheduleType, train, steps);
            var logSigmas = Array.ConvertAll(train, MathF.Log);
            return (Array.ConvertAll(sigmas, s => Math.Round(SigmaInterpolation.SigmaToT(s, logSigmas))), sigmas);
        }

        if (config.UseKarrasSigmas)
        {
            var sigmas = SigmaInterpolation.Karras(train[0], train[^1], steps);
            var logSigmas = Array.ConvertAll(train, MathF.Log);
            return (Array.ConvertAll(sigmas, s => Math.Round(SigmaInterpolation.SigmaToT(s, logSigmas))), sigmas);
        }

        if (config.UseExponentialSigmas)
        {
            // The first timestep is exactly 999 in exact arithmetic; exp(log σ_max) lands a few ulps either side of it,
            // so the truncation gets a 1e-6 allowance (diffusers' float32 log_sigmas come out at 999 there).
            var sigmas = SigmaInterpolation.Exponential(train[0], train[^1], steps);
            var logSigmas = Array.ConvertAll(train, MathF.Log);
            return (Array.ConvertAll(sigmas, s => Math.Truncate(SigmaInterpolation.SigmaToT(s, logSigmas) + 1e-6)), sigmas);
        }

        var timesteps = TimestepSpacing.DpmSolver(config, steps, clipped);
        return (timesteps, Array.ConvertAll(timesteps, t => SigmaInterpolation.Interpolate(t, train)));
    }
}
