using StableDiffusion.Core.Pipelines;

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

    /// <summary>A1111 1.9's schedule types we can honour: Automatic (the sampler's own) and Karras (for DPM++ 2M).</summary>
    public static IReadOnlyList<Automatic1111Scheduler> Schedulers { get; } =
    [
        new("automatic", "Automatic", null, -1, false),
        new("karras", "Karras", null, 7.0, false),
    ];

    /// <summary>The canonical scheduler for a sampler and schedule type; null with an error naming the field at fault.</summary>
    public static string? Resolve(string sampler, string? scheduleType, out string? errorField, out string? error)
    {
        errorField = error = null;
        var name = sampler.Trim();
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
            (errorField, error) = ("scheduler", $"'Karras' is available with DPM++ 2M only, not with '{sampler}'");
            return null;
        }
        (errorField, error) = ("scheduler", $"unknown schedule type '{scheduleType}'; one of Automatic, Karras");
        return null;
    }
}
