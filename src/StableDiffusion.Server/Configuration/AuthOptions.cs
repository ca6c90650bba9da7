namespace StableDiffusion.Server.Configuration;

/// <summary>The <c>Auth</c> section: optional bearer API keys for <c>/v1</c>.</summary>
internal sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>Accepted keys; empty = no authentication.</summary>
    public List<string> ApiKeys { get; set; } = [];
}
