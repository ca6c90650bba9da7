namespace StableDiffusion.Core.Schedulers;

/// <summary>Creates schedulers by Replicate name or diffusers class name.</summary>
public static class SchedulerFactory
{
    /// <summary>Replicate's names, in the order they are documented, then the samplers added after them (Replicate-style
    /// names as its SDXL model spells HeunDiscrete).</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "DDIM", "K_EULER", "K_EULER_ANCESTRAL", "DPMSolverMultistep", "PNDM", "KarrasDPM", "LMS",
        "HeunDiscrete", "DPMSolverMultistepSDE", "KarrasDPMSDE", "K_DPM_2", "K_DPM_2_ANCESTRAL", "UniPCMultistep", "LCM", "DEISMultistep", "DPMSolverSinglestep",
    ];

    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["PNDM"] = "PNDM",
        ["PNDMScheduler"] = "PNDM",
        ["DDIM"] = "DDIM",
        ["DDIMScheduler"] = "DDIM",
        ["K_EULER"] = "K_EULER",
        ["EulerDiscreteScheduler"] = "K_EULER",
        ["K_EULER_ANCESTRAL"] = "K_EULER_ANCESTRAL",
        ["EulerAncestralDiscreteScheduler"] = "K_EULER_ANCESTRAL",
        ["DPMSolverMultistep"] = "DPMSolverMultistep",
        ["DPMSolverMultistepScheduler"] = "DPMSolverMultistep",
        ["KarrasDPM"] = "KarrasDPM",
        ["LMS"] = "LMS",
        ["LMSDiscreteScheduler"] = "LMS",
        ["HeunDiscrete"] = "HeunDiscrete",
        ["HeunDiscreteScheduler"] = "HeunDiscrete",
        ["DPMSolverMultistepSDE"] = "DPMSolverMultistepSDE",
        ["KarrasDPMSDE"] = "KarrasDPMSDE",
        ["K_DPM_2"] = "K_DPM_2",
        ["KDPM2DiscreteScheduler"] = "K_DPM_2",
        ["K_DPM_2_ANCESTRAL"] = "K_DPM_2_ANCESTRAL",
        ["KDPM2AncestralDiscreteScheduler"] = "K_DPM_2_ANCESTRAL",
        ["UniPCMultistep"] = "UniPCMultistep",
        ["UniPC"] = "UniPCMultistep",
        ["UniPCMultistepScheduler"] = "UniPCMultistep",
        ["LCM"] = "LCM",
        ["LCMScheduler"] = "LCM",
        ["DEISMultistep"] = "DEISMultistep",
        ["DEIS"] = "DEISMultistep",
        ["DEISMultistepScheduler"] = "DEISMultistep",
        ["DPMSolverSinglestep"] = "DPMSolverSinglestep",
        ["DPMSolverSinglestepScheduler"] = "DPMSolverSinglestep",
    };

    /// <summary>Maps a Replicate name or a diffusers class name to the canonical name; null when unknown.</summary>
    public static string? Canonicalize(string name) =>
        name is not null && Aliases.TryGetValue(name.Trim(), out var canonical) ? canonical : null;

    // The ODE names pick dpmsolver++ even when the model's config says sde-dpmsolver++ (the SDE names exist for that).
    private static SchedulerConfig Ode(SchedulerConfig config) =>
        config.AlgorithmType == "sde-dpmsolver++" ? config with { AlgorithmType = "dpmsolver++" } : config;

    /// <summary>The schedulers whose diffusers class offers use_karras_sigmas and use_exponential_sigmas.</summary>
    public static IReadOnlyList<string> SigmaScheduleNames { get; } =
    [
        "K_EULER", "LMS", "HeunDiscrete", "K_DPM_2", "K_DPM_2_ANCESTRAL", "DPMSolverMultistep", "KarrasDPM",
        "DPMSolverMultistepSDE", "KarrasDPMSDE", "DPMSolverSinglestep", "UniPCMultistep", "DEISMultistep",
    ];

    /// <summary>Whether <paramref name="canonicalName"/> takes a Karras or exponential sigma schedule.</summary>
    public static bool TakesSigmaSchedule(string canonicalName) => SigmaScheduleNames.Contains(canonicalName);

    /// <summary>Whether <paramref name="canonicalName"/> runs any A1111 schedule type (<see cref="ScheduleTypes"/>): the
    /// σ-schedule schedulers and Euler ancestral (whose diffusers class has no Karras flag, but A1111's Euler a takes any).</summary>
    public static bool TakesScheduleType(string canonicalName) => TakesSigmaSchedule(canonicalName) || canonicalName == "K_EULER_ANCESTRAL";

    /// <summary>The config and scheduler name for a σ schedule: karras/exponential through diffusers' flags where the
    /// scheduler has them, any other A1111 schedule type as <see cref="SchedulerConfig.ScheduleType"/>.</summary>
    private static (SchedulerConfig Config, string Name) WithSigmaSchedule(SchedulerConfig config, string schedulerName, string sigmaSchedule)
    {
        var type = ScheduleTypes.Find(sigmaSchedule)
            ?? throw new ArgumentException($"Unknown sigma schedule '{sigmaSchedule}'; one of {string.Join(", ", ScheduleTypes.All.Select(a => a.Name))}.", nameof(sigmaSchedule));
        if (type == "automatic")
        {
            return (config, schedulerName);
        }

        if (!TakesScheduleType(schedulerName))
        {
            throw new ArgumentException($"Scheduler '{schedulerName}' runs no {sigmaSchedule} sigmas; they apply to {string.Join(", ", SigmaScheduleNames)}, K_EULER_ANCESTRAL.", nameof(sigmaSchedule));
        }

        var karras = type == "karras";
        if (type is "karras" or "exponential" && TakesSigmaSchedule(schedulerName))
        {
            config = config with { UseKarrasSigmas = karras, UseExponentialSigmas = !karras, ScheduleType = null };
        }
        else
        {
            config = config with { UseKarrasSigmas = false, UseExponentialSigmas = false, ScheduleType = type };
        }

        var useKarrasName = karras && config.ScheduleType is null;
        var name = schedulerName switch
        {
            "DPMSolverMultistep" or "KarrasDPM" => useKarrasName ? "KarrasDPM" : "DPMSolverMultistep",
            "DPMSolverMultistepSDE" or "KarrasDPMSDE" => useKarrasName ? "KarrasDPMSDE" : "DPMSolverMultistepSDE",
            _ => schedulerName,
        };
        return (config, name);
    }

    /// <summary>The canonical name of the scheduler a model folder's config asks for.</summary>
    /// <remarks>Unknown classes (DDPM, …) fall back to PNDM, the Stable Diffusion default.</remarks>
    public static string DefaultFor(SchedulerConfig config)
    {
        var canonical = Canonicalize(config.ClassName) ?? "PNDM";
        if (canonical == "DPMSolverMultistep")
        {
            var sde = config.AlgorithmType == "sde-dpmsolver++";
            return (config.UseKarrasSigmas, sde) switch
            {
                (false, false) => "DPMSolverMultistep",
                (true, false) => "KarrasDPM",
                (false, true) => "DPMSolverMultistepSDE",
                (true, true) => "KarrasDPMSDE",
            };
        }

        return canonical;
    }

    /// <summary>Creates a fresh scheduler; <paramref name="name"/> null means the config's own class.</summary>
    /// <remarks>Like diffusers' <c>from_config(pipe.scheduler.config)</c>, the other scheduler inherits the shared fields
    /// (betas, spacing, offset, prediction type) of the model's config.</remarks>
    /// <param name="eta">DDIM's η (diffusers' <c>eta=</c> pipeline argument); the other schedulers ignore it.</param>
    /// <param name="sigmaSchedule"><c>karras</c> or <c>exponential</c> to set <c>use_karras_sigmas</c> /
    /// <c>use_exponential_sigmas</c> on the config, or another A1111 schedule type (<see cref="ScheduleTypes"/>, which
    /// computes karras/exponential itself for Euler ancestral); null or automatic keeps the config's.</param>
    /// <exception cref="ArgumentException">The name is not one of <see cref="Names"/> or a diffusers class name, or the
    /// sigma schedule is unknown or not offered by that scheduler.</exception>
    public static IScheduler Create(string? name, SchedulerConfig config, double eta = 0.0, string? sigmaSchedule = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var schedulerName = name is null ? DefaultFor(config) : Canonicalize(name);
        if (sigmaSchedule is not null && schedulerName is not null)
        {
            (config, name) = WithSigmaSchedule(config, schedulerName, sigmaSchedule);
        }

        var canonical = name is null
            ? DefaultFor(config)
            : Canonicalize(name) ?? throw new ArgumentException(
                $"Unknown scheduler '{name}'. Valid names: {string.Join(", ", Names)}.", nameof(name));

        return canonical switch
        {
            "PNDM" => new PndmScheduler(config),
            "DDIM" => new DdimScheduler(config, eta),
            "K_EULER" => new EulerDiscreteScheduler(config),
            "K_EULER_ANCESTRAL" => new EulerAncestralScheduler(config),
            "DPMSolverMultistep" => new DpmSolverMultistepScheduler(Ode(config) with { UseKarrasSigmas = false }),
            "KarrasDPM" => new DpmSolverMultistepScheduler(Ode(config) with { UseKarrasSigmas = true, UseExponentialSigmas = false }),
            "DPMSolverMultistepSDE" => new DpmSolverMultistepScheduler(config with { AlgorithmType = "sde-dpmsolver++", UseKarrasSigmas = false }),
            "KarrasDPMSDE" => new DpmSolverMultistepScheduler(config with { AlgorithmType = "sde-dpmsolver++", UseKarrasSigmas = true, UseExponentialSigmas = false }),
            "LMS" => new LmsDiscreteScheduler(config),
            "HeunDiscrete" => new HeunDiscreteScheduler(config),
            "K_DPM_2" => new KDpm2DiscreteScheduler(config),
            "K_DPM_2_ANCESTRAL" => new KDpm2AncestralDiscreteScheduler(config),
            "UniPCMultistep" => new UniPcMultistepScheduler(config),
            "LCM" => new LcmScheduler(config),
            "DEISMultistep" => new DeisMultistepScheduler(config),
            "DPMSolverSinglestep" => new DpmSolverSinglestepScheduler(Ode(config)),
            _ => throw new InvalidOperationException($"No scheduler is registered for '{canonical}'."),
        };
    }
}
