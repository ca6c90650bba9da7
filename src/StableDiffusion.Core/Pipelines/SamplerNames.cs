namespace StableDiffusion.Core.Pipelines;

/// <summary>AUTOMATIC1111's sampler names for our schedulers (what A1111 writes in <c>parameters</c> and its API speaks).</summary>
public static class SamplerNames
{
    private static readonly (string Scheduler, string A1111)[] Map =
    [
        ("PNDM", "PLMS"),
        ("DDIM", "DDIM"),
        ("K_EULER", "Euler"),
        ("K_EULER_ANCESTRAL", "Euler a"),
        ("DPMSolverMultistep", "DPM++ 2M"),
        ("KarrasDPM", "DPM++ 2M Karras"),
        ("LMS", "LMS"),
        ("HeunDiscrete", "Heun"),
        ("K_DPM_2", "DPM2"),
        ("K_DPM_2_ANCESTRAL", "DPM2 a"),
        ("DPMSolverMultistepSDE", "DPM++ 2M SDE"),
        ("KarrasDPMSDE", "DPM++ 2M SDE Karras"),
        ("UniPCMultistep", "UniPC"),
        ("LCM", "LCM"),
        ("DPMSolverSinglestep", "DPM++ 2S"),
        ("DEISMultistep", "DEIS"),
    ];

    public static IEnumerable<(string Scheduler, string A1111)> All => Map;

    public static string ToA1111(string scheduler)
    {
        foreach (var (s, a) in Map)
        {
            if (s == scheduler)
            {
                return a;
            }
        }

        return scheduler;
    }

    /// <summary>The scheduler for an A1111 sampler name (case-insensitive); null when we have no such sampler.</summary>
    public static string? FromA1111(string sampler)
    {
        foreach (var (s, a) in Map)
        {
            if (string.Equals(a, sampler.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return s;
            }
        }

        return null;
    }
}
