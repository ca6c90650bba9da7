namespace StableDiffusion.Server.Models;

/// <summary>A model the server offers: its configured identity and folder.</summary>
internal sealed record ServedModel(string Name, string Owner, string Path, string? Description, bool IsDemo)
{
    /// <summary>Replicate's <c>owner/name</c>.</summary>
    public string FullName => $"{Owner}/{Name}";

    /// <summary>Whether the worker loads the model's safety checker (<c>Models:Items:N:SafetyChecker</c>).</summary>
    public bool SafetyChecker { get; init; }
}
