namespace StableDiffusion.Core.Schedulers;

/// <summary>Creates schedulers by Replicate name or diffusers class name.</summary>
public static class SchedulerFactory
{
    /// <summary>Replicate's names, in the order they are documented.</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["DDIM", "K_EULER", "K_EULER_ANCESTRAL", "DPMSolverMultistep", "PNDM", "KarrasDPM", "LMS"];

    /// <summary>Maps a Replicate name or a diffusers class name to the canonical name; null when unknown.</summary>
    public static string? Canonicalize(string name) => throw new NotImplementedException();

    /// <summary>The canonical name of the scheduler a model folder's config asks for.</summary>
    public static string DefaultFor(SchedulerConfig config) => throw new NotImplementedException();

    /// <summary>Creates a fresh scheduler; <paramref name="name"/> null means the config's own class.</summary>
    public static IScheduler Create(string? name, SchedulerConfig config) => throw new NotImplementedException();
}
