using StableDiffusion.Core.Pipelines;
using StableDiffusion.Core.Schedulers;

namespace StableDiffusion.Server.Api.Automatic1111;

/// <summary>
/// A1111 sampler and schedule-type names onto our schedulers (the sampler table itself is Core's <see cref="SamplerNames"/>,
/// the schedule types Core's <see cref="ScheduleTypes"/>). Nothing is refused, as A1111 1.9+ refuses nothing
/// (modules/sd_samplers.py <c>get_sampler_and_scheduler</c>): a legacy name such as "DPM++ 2M Karras" is split into
/// sampler + schedule type, an A1111 sampler we lack runs its nearest one, an unknown sampler A1111's default
/// (samplers[0], "DPM++ 2M"), an unknown schedule type Automatic; each substitution is named in <c>info.warnings</c>.
/// </summary>
internal static class Automatic1111Samplers
{
    // A1111's aliases (modules/sd_samplers_kdiffusion.py samplers_k_diffusion: "k_euler_a", "k_dpmpp_2m", …).
    private static readonly Dictionary<string, string[]> Aliases = new()
    {
        ["Euler a"] = ["k_euler_a", "k_euler_ancestral"],
        ["Euler"] = ["k_euler"],
        ["LMS"] = ["k_lms"],
        ["Heun"] = ["k_heun"],
        ["DPM2"] = ["k_dpm_2"],
        ["DPM2 a"] = ["k_dpm_2_a"],
        ["DPM++ 2M"] = ["k_dpmpp_2m"],
        ["DPM++ 2M Karras"] = ["k_dpmpp_2m_ka"],
        ["DPM++ 2M SDE"] = ["k_dpmpp_2m_sde"],
        ["DDIM"] = [],
        ["PLMS"] = [],
    };

    // A1111 1.10 samplers we have no scheduler for, onto the nearest we have (named in the README).
    private static readonly Dictionary<string, string> Nearest = new(StringComparer.OrdinalIgnoreCase)
    {
        ["DPM++ SDE"] = "DPM++ 2M SDE",
        ["DPM++ 2M SDE Heun"] = "DPM++ 2M SDE",
        ["DPM++ 3M SDE"] = "DPM++ 2M SDE",
        ["DPM++ 2S a"] = "DPM++ 2S",
        ["DPM fast"] = "DPM++ 2M",
        ["DPM adaptive"] = "DPM++ 2M",
        ["Restart"] = "DPM++ 2M",
        ["DDIM CFG++"] = "DDIM",
        ["k_dpmpp_sde"] = "DPM++ 2M SDE",
        ["k_dpmpp_2s_a"] = "DPM++ 2S",
        ["k_dpm_fast"] = "DPM++ 2M",
        ["k_dpm_ad"] = "DPM++ 2M",
    };

    /// <summary>A1111's default when a request names no sampler (the API model's <c>sampler_index</c> default).</summary>
    public const string Default = "Euler";

    /// <summary>What A1111 1.9+ runs for a sampler name it does not know (<c>samplers[0]</c>).</summary>
    public const string Fallback = "DPM++ 2M";

    public static IReadOnlyList<Automatic1111Sampler> List { get; } = SamplerNames.All
        .Select(s => new Automatic1111Sampler(s.A1111, Aliases.GetValueOrDefault(s.A1111, []), new Dictionary<string, string>()))
        .ToArray();

    /// <summary>A1111 1.9's schedule types, all accepted: the σ-schedule samplers run them (Core's
    /// <see cref="ScheduleTypes"/>), the timestep samplers (DDIM, PLMS, LCM) ignore them as A1111's DDIM and PLMS do.</summary>
    public static IReadOnlyList<Automatic1111Scheduler> Schedulers { get; } = ScheduleTypes.All
        .Select(s => new Automatic1111Scheduler(s.Name, s.Label, s.Name == "sgm_uniform" ? ["SGMUniform"] : null,
            s.Name switch { "karras" => 7.0, "polyexponential" => 1.0, _ => -1 }, s.Name is "uniform" or "sgm_uniform" or "simple" or "normal" or "ddim" or "beta"))
        .ToArray();

    /// <summary>The scheduler a sampler name and schedule type run, with the names to report and any substitution.</summary>
    public static Automatic1111Sampling Resolve(string sampler, string? scheduleType)
    {
        var warnings = new List<string>();
        var name = Canonical(sampler.Trim());
        var schedule = scheduleType?.Trim() is { Length: > 0 } given ? given : null;
        var type = schedule is null ? "automatic" : ScheduleTypes.Find(schedule);
        if (type is null)
        {
            warnings.Add($"unknown schedule type '{scheduleType}': Automatic used (one of {string.Join(", ", ScheduleTypes.All.Select(s => s.Label))})");
            type = "automatic";
        }

        // "DPM2 Karras", "Euler a Exponential": the schedule type as a suffix wins over the scheduler field, as in A1111.
        if (SamplerNames.FromA1111(name) is null && !Nearest.ContainsKey(name) && SplitSuffix(name) is { } split)
        {
            (name, type) = (Canonical(split.Sampler), split.Type);
        }

        if (Nearest.TryGetValue(name, out var nearest))
        {
            warnings.Add($"sampler '{sampler}' is not implemented here: {nearest} used");
            name = nearest;
        }

        var scheduler = SamplerNames.FromA1111(name);
        if (scheduler is null)
        {
            warnings.Add($"unknown sampler '{sampler}': {Fallback} used, as A1111 does (one of {string.Join(", ", List.Select(s => s.Name))})");
            (name, scheduler) = (Fallback, SamplerNames.FromA1111(Fallback)!);
        }

        // Our two "… Karras" samplers are DPM++ 2M (SDE) with the Karras schedule type.
        var baseName = name.EndsWith(" Karras", StringComparison.OrdinalIgnoreCase) ? name[..^" Karras".Length] : name;
        if (baseName != name && type == "automatic")
        {
            type = "karras";
        }

        if (type == "automatic")
        {
            return new(scheduler, null, baseName, null, warnings);
        }

        if (!SchedulerFactory.TakesScheduleType(scheduler))
        {
            warnings.Add($"schedule type '{ScheduleTypes.Label(type)}' does not apply to {baseName} (a timestep sampler; A1111 ignores it too)");
            return new(scheduler, null, baseName, null, warnings);
        }

        return new(scheduler, type, baseName, ScheduleTypes.Label(type), warnings);
    }

    private static string Canonical(string name)
    {
        foreach (var (a1111, aliases) in Aliases)
        {
            if (aliases.Contains(name, StringComparer.OrdinalIgnoreCase) || a1111.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return a1111;
            }
        }

        return name;
    }

    /// <summary>The longest schedule-type label or name the sampler name ends with ("DPM2 SGM Uniform" is SGM Uniform,
    /// not Uniform: A1111 takes the first in its list, which would leave "DPM2 SGM").</summary>
    private static (string Sampler, string Type)? SplitSuffix(string name)
    {
        var suffixes = ScheduleTypes.All.SelectMany(s => new[] { (Suffix: s.Label, Type: s.Name), (Suffix: s.Name, Type: s.Name) })
            .OrderByDescending(s => s.Suffix.Length);
        foreach (var (suffix, type) in suffixes)
        {
            if (name.Length > suffix.Length + 1 && name.EndsWith(" " + suffix, StringComparison.OrdinalIgnoreCase))
            {
                return (name[..^(suffix.Length + 1)], type);
            }
        }

        return null;
    }
}

/// <summary>An A1111 sampler + schedule type resolved: our scheduler and σ schedule (null = the sampler's own), the
/// names A1111 reports (<c>sampler_name</c>, "Schedule type"), and the substitutions made.</summary>
internal sealed record Automatic1111Sampling(string Scheduler, string? SigmaSchedule, string SamplerName, string? ScheduleLabel,
    IReadOnlyList<string> Warnings);
