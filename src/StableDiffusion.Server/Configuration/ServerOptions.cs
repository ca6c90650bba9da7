namespace StableDiffusion.Server.Configuration;

/// <summary>What this process does (DESIGN §9): everything, only the HTTP API, or only a GPU worker.</summary>
internal enum ServerRole
{
    /// <summary>HTTP API and workers in one process (one box).</summary>
    All,
    /// <summary>The three API surfaces; jobs run on workers elsewhere (needs a shared backend).</summary>
    Api,
    /// <summary>Loads models and runs jobs; serves only health and metrics.</summary>
    Worker,
}

/// <summary>The <c>Server</c> section.</summary>
internal sealed class ServerOptions
{
    public const string Section = "Server";

    /// <summary><c>All</c> (default), <c>Api</c> or <c>Worker</c>; also <c>--role</c> on the command line.</summary>
    public ServerRole Role { get; set; } = ServerRole.All;

    /// <summary>The role as configured, before the host is built (registration depends on it).</summary>
    public static ServerRole RoleOf(IConfiguration configuration)
        => configuration.GetSection(Section).Get<ServerOptions>()?.Role ?? ServerRole.All;
}
