namespace StableDiffusion.Server.Configuration;

/// <summary>The <c>ForwardedHeaders</c> section: which reverse proxies may set X-Forwarded-Proto/Host/Prefix.</summary>
internal sealed class ProxyOptions
{
    public const string Section = "ForwardedHeaders";

    public bool Enabled { get; set; } = true;

    /// <summary>Proxy addresses trusted to forward; loopback is always trusted.</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Proxy networks in CIDR notation (<c>10.0.0.0/8</c>).</summary>
    public List<string> KnownNetworks { get; set; } = [];
}
