using StableDiffusion.Core.Pipelines;
using StableDiffusion.Core.Schedulers;

namespace StableDiffusion.Server.Api.Automatic1111;

/// <summary>
/// A1111 sampler and scheduler names onto our schedulers (the mapping itself is Core's <see cref="SamplerNames"/>).
/// Since A1111 1.9 the noise schedule is a separate field: <c>sampler_name: "DPM++ 2M", scheduler: "Karras"</c> is the
/// older <c>"DPM++ 2M Karras"</c>.
/// </summary>
internal static class Automatic1111Samplers
{
    // A1111's aliases (modules/sd_samplers_kdiffusion.py samplers_k_diffusion: "k_euler_a", "k_dpmpp_2m", …).
    private static readonly Dictionary<string, string[]> Aliases = new()
    {
        ["Euler a"] = ["k_euler_a", "k_euler_ancestral"],
        ["Euler"] = ["k_euler"],
        ["LMS"] = ["k_lms"],
        ["DPM++ 2M"] = ["k_dpmpp_2m"],
        ["DPM++ 2M Karras"] = ["k_dpmpp_2m_ka"],
        ["DDIM"] = [],
        ["PLMS"] = [],
    };

    /// <summary>A1111's default when a request names no sampler (the API model's <c>sampler_index</c> default).</summary>
    public const string Default = "Euler";

    public static IReadOnlyList<Automatic1111Sampler> List { get; } = SamplerNames.All
        .Select(s => new Automatic1111Sampler(s.A1111, Aliases.GetValueOrDefault(s.A1111, []), new Dictionary<string, string>()))
        .ToArray();

    /// <summary>A1111 1.9's schedule types we can honour: Automatic (the sampler's own), Karras and Exponential (for the
    /// samplers whose diffusers scheduler offers them).</summary>
    public static IReadOnlyList<Automatic1111Scheduler> Schedulers { get; } =
    [
        new("automatic", "Automatic", null, -1, false),
        new("karras", "Karras", null, 7.0, false),
        new("exponential", "Exponential", null, -1, false),
    ];

    /// <summary>The canonical scheduler for a sampler and schedule type; null with an error naming the field at fault.
    /// <paramref name="sigmaSchedule"/> is karras or exponential when the schedule type needs the scheduler's option
    /// (the legacy "DPM++ 2M Karras" names map to their own schedulers instead).</summary>
    public static string? Resolve(string sampler, string? scheduleType, out string? errorField, out string? error, out string? sigmaSchedule)
    {
        errorField = error = sigmaSchedule = null;
        var name = sampler.Trim();

        // A1111 1.9 still accepts the old "<sampler> Karras" names as the sampler with the Karras schedule type.
        if (SamplerNames.FromA1111(name) is null && name.EndsWith(" Karras", StringComparison.OrdinalIgnoreCase)
            && (scheduleType is null || scheduleType.Trim().Length == 0 || scheduleType.Trim().Equals("automatic", StringComparison.OrdinalIgnoreCase)))
        {
            name = name[..^" Karras".Length];
            scheduleType = "Karras";
        }
        foreach (var (a1111, aliases) in Aliases)
        {
            if (aliases.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                name = a1111;
            }
        }
        var scheduler = SamplerNames.FromA1111(name);
        if (scheduler is null)
        {
            (errorField, error) = ("sampler_name", $"unknown sampler '{sampler}'; one of {string.Join(", ", List.Select(s => s.Name))}");
            return null;
        }
        var schedule = scheduleType?.Trim() ?? "";
        if (schedule.Length == 0 || schedule.Equals("automatic", StringComparison.OrdinalIgnoreCase))
        {
            return scheduler;
        }
        if (schedule.Equals("karras", StringComparison.OrdinalIgnoreCase))
        {
            var karras = SamplerNames.FromA1111(name + " Karras") ?? (name.EndsWith(" Karras", StringComparison.OrdinalIgnoreCase) ? scheduler : null);
            if (karras is not null)
            {
                return karras;
            }
            if (SchedulerFactory.TakesSigmaSchedule(scheduler))
            {
                sigmaSchedule = "karras";
                return scheduler;
            }
            (errorField, error) = ("scheduler", $"'Karras' is not available with '{sampler}' (diffusers has no Karras sigmas for it)");
            return null;
        }
        if (schedule.Equals("exponential", StringComparison.OrdinalIgnoreCase))
        {
            if (SchedulerFactory.TakesSigmaSchedule(scheduler))
            {
                sigmaSchedule = "exponential";
                return scheduler;
            }
            (errorField, error) = ("scheduler", $"'Exponential' is not available with '{sampler}' (diffusers has no exponential sigmas for it)");
            return null;
        }
        (errorField, error) = ("scheduler", $"unknown schedule type '{scheduleType}'; one of Automatic, Karras, Exponential");
        return null;
    }
}
