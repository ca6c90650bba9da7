namespace StableDiffusion.Server.Configuration;

/// <summary>The <c>Cors</c> section: browser origins allowed to call the API.</summary>
internal sealed class CorsOriginsOptions
{
    public const string Section = "Cors";

    /// <summary>Exact origins (<c>https://app.example.com</c>); <c>*</c> allows any; empty = no CORS.</summary>
    public List<string> Origins { get; set; } = [];
}
