namespace StableDiffusion.Core.Pipelines;

/// <summary>Where an image-conditioned run (img2img, inpainting, depth) enters the schedule, from
/// <c>prompt_strength</c> — diffusers' <c>get_timesteps</c>.</summary>
/// <remarks>
/// diffusers: <c>init_timestep = min(int(steps·strength), steps)</c>; <c>t_start = max(steps − init_timestep, 0)</c>;
/// <c>timesteps = scheduler.timesteps[t_start·order:]</c>. Order is 2 for Heun and KDPM2 (two calls per step), 1 otherwise; the index is
/// into the list of model calls, so PNDM's duplicated first timestep shifts its entry point by one call: at 10 steps
/// and strength 0.5 PNDM enters at 501 (6 calls: 501, 401, …, 1) where DDIM and Euler enter at 401 (5 calls) — exactly
/// what diffusers runs. One deliberate difference: strength 0 runs no model call at all (the input is encoded and
/// decoded), where diffusers' PNDM would still run its final call at t = 1 (<c>timesteps[10:]</c> = [1]) and the other
/// schedulers would fail on an empty schedule.
/// </remarks>
public static class StrengthSchedule
{
    /// <summary>Index of the first model call; equal to <paramref name="calls"/> when nothing is denoised.</summary>
    /// <param name="steps">num_inference_steps.</param>
    /// <param name="strength">prompt_strength in [0, 1].</param>
    /// <param name="calls">The scheduler's number of model calls (its Timesteps.Count).</param>
    /// <param name="order">diffusers' <c>scheduler.order</c>: 2 for Heun and the KDPM2 samplers (two calls per step).</param>
    public static int StartIndex(int steps, double strength, int calls, int order = 1)
    {
        if (strength is < 0 or > 1 || double.IsNaN(strength))
        {
            throw new ArgumentOutOfRangeException(nameof(strength), strength, "prompt_strength must be between 0 and 1.");
        }

        // Python's int() truncates the double product: int(10 * 0.29) == 2, as here.
        int initTimestep = Math.Min((int)(steps * strength), steps);
        if (initTimestep == 0)
        {
            return calls;
        }

        int tStart = Math.Max(steps - initTimestep, 0);
        return Math.Min(tStart * order, calls);
    }
}
