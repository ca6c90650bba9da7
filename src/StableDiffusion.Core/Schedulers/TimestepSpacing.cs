namespace StableDiffusion.Core.Schedulers;

/// <summary>diffusers' <c>timestep_spacing</c> rules ("leading", "linspace", "trailing"; Table 2 of arXiv:2305.08891),
/// computed with NumPy's float64 formulas so rounding ties land where diffusers' do.</summary>
internal static class TimestepSpacing
{
    public const string Leading = "leading";
    public const string Linspace = "linspace";
    public const string Trailing = "trailing";

    /// <summary>The descending timesteps of DDIM (and, reversed, PNDM's <c>_timesteps</c>; and Euler/LMS).</summary>
    /// <param name="roundLinspace">DDIM and PNDM round "linspace" timesteps to integers; the Euler-family schedulers keep
    /// them fractional, stored as float32.</param>
    public static double[] Descending(SchedulerConfig config, int steps, bool roundLinspace)
    {
        var train = config.NumTrainTimesteps;
        CheckSteps(train, steps);
        var result = new double[steps];
        switch (config.TimestepSpacing)
        {
            case Linspace:
                var linspace = NumPyLinspace(0, train - 1, steps);
                for (var i = 0; i < steps; i++)
                {
                    var v = linspace[steps - 1 - i];
                    result[i] = roundLinspace ? Math.Round(v) : (float)v;
                }

                break;
            case Leading:
                var ratio = train / steps;
                for (var i = 0; i < steps; i++)
                {
                    // diffusers indexes alphas_cumprod[1000] (IndexError) when steps == num_train_timesteps and
                    // steps_offset == 1; the last trained timestep is the nearest valid one.
                    result[i] = Math.Min((double)(steps - 1 - i) * ratio + config.StepsOffset, train - 1);
                }

                break;
            case Trailing:
                var trailing = NumPyArange(train, 0, -(double)config.NumTrainTimesteps / steps);
                if (trailing.Length != steps)
                {
                    throw new NotSupportedException($"'trailing' spacing gives {trailing.Length} timesteps for {steps} steps.");
                }

                for (var i = 0; i < steps; i++)
                {
                    result[i] = Math.Round(trailing[i]) - 1;
                }

                break;
            default:
                throw UnknownSpacing(config);
        }

        return result;
    }

    /// <summary>At most num_train_timesteps − 1 steps. diffusers refuses more than num_train_timesteps (a step ratio of
    /// 0), and at exactly that many, with steps_offset 1, two steps land on the same timestep: DPM-Solver and LMS then
    /// divide by a zero interval (NaN) and PNDM/DDIM index past the schedule.</summary>
    private static void CheckSteps(int train, int steps, int headroom = 1)
    {
        if (steps < 1 || steps > train - headroom)
        {
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"The number of inference steps must be between 1 and {train - headroom} for this scheduler (num_train_timesteps {train}).");
        }
    }

    /// <summary>DPMSolverMultistepScheduler's variant: "linspace" and "leading" divide the range into steps + 1 parts and
    /// drop the final 0, so its "leading" ratio is <c>num_train_timesteps // (steps + 1)</c>. <paramref name="clipped"/>
    /// is the number of training timesteps that <c>lambda_min_clipped</c> cuts from the top of the range.</summary>
    public static double[] DpmSolver(SchedulerConfig config, int steps, int clipped = 0)
    {
        var train = config.NumTrainTimesteps - clipped;
        // Its "leading" first timestep is steps·(train // (steps + 1)) + steps_offset: from 999 steps on it reaches
        // 1000, whose sigma clamps onto 999's, and the zero interval between them is a NaN.
        CheckSteps(train, steps, headroom: 2);
        var result = new double[steps];
        switch (config.TimestepSpacing)
        {
            case Linspace:
                var linspace = NumPyLinspace(0, train - 1, steps + 1);
                for (var i = 0; i < steps; i++)
                {
                    result[i] = Math.Round(linspace[steps - i]);
                }

                break;
            case Leading:
                var ratio = train / (steps + 1);
                for (var i = 0; i < steps; i++)
                {
                    result[i] = (double)(steps - i) * ratio + config.StepsOffset;
                }

                break;
            case Trailing:
            {
                var trailing = NumPyArange(train, 0, -(double)train / steps);
                if (trailing.Length != steps)
                {
                    throw new NotSupportedException($"'trailing' spacing gives {trailing.Length} timesteps for {steps} steps.");
                }

                for (var i = 0; i < steps; i++)
                {
                    result[i] = Math.Round(trailing[i]) - 1;
                }

                break;
            }

            default:
                throw UnknownSpacing(config);
        }

        return result;
    }

    /// <summary><c>np.linspace(start, stop, num)</c>: <c>i * step + start</c> with the end point set exactly.</summary>
    public static double[] NumPyLinspace(double start, double stop, int num)
    {
        var y = new double[num];
        if (num == 1)
        {
            y[0] = start;
            return y;
        }

        var step = (stop - start) / (num - 1);
        for (var i = 0; i < num; i++)
        {
            y[i] = i * step + start;
        }

        y[num - 1] = stop;
        return y;
    }

    /// <summary><c>np.arange(start, stop, step)</c> for floats: length ⌈(stop − start)/step⌉, values
    /// <c>start + i * ((start + step) − start)</c>.</summary>
    public static double[] NumPyArange(double start, double stop, double step)
    {
        var length = (int)Math.Max(Math.Ceiling((stop - start) / step), 0);
        var delta = (start + step) - start;
        var y = new double[length];
        for (var i = 0; i < length; i++)
        {
            y[i] = start + i * delta;
        }

        return y;
    }

    private static NotSupportedException UnknownSpacing(SchedulerConfig config) =>
        new($"timestep_spacing '{config.TimestepSpacing}' is not supported; use 'leading', 'linspace' or 'trailing'.");
}
