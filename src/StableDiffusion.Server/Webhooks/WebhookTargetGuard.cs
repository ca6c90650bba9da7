using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;

namespace StableDiffusion.Server.Webhooks;

/// <summary>Raised when a webhook's destination is a private, loopback or link-local address and config forbids it.</summary>
internal sealed class WebhookTargetRefusedException(string message) : IOException(message);

/// <summary>
/// The SSRF guard for webhooks. The decisive check runs at connect time on the resolved addresses
/// (<see cref="SocketsHttpHandler.ConnectCallback"/>), so a hostname that resolves to an internal address, or is
/// re-pointed there after validation (DNS rebinding), is still refused.
/// </summary>
internal static class WebhookTargetGuard
{
    /// <summary>True for loopback, private (RFC 1918, ULA), link-local, CGNAT, unspecified, multicast and reserved addresses.</summary>
    public static bool IsInternal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (IPAddress.IsLoopback(address))
        {
            return true;
        }
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> b = stackalloc byte[4];
            address.TryWriteBytes(b, out _);
            return b[0] switch
            {
                0 or 10 or 127 => true,
                100 => b[1] >= 64 && b[1] <= 127,          // 100.64.0.0/10 carrier-grade NAT
                169 => b[1] == 254,                         // link-local, cloud metadata (169.254.169.254)
                172 => b[1] >= 16 && b[1] <= 31,
                192 => (b[1] == 168) || (b[1] == 0 && b[2] == 0), // 192.168/16, 192.0.0/24
                198 => b[1] == 18 || b[1] == 19,            // benchmarking 198.18/15
                >= 224 => true,                             // multicast, reserved, broadcast
                _ => false,
            };
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (address.Equals(IPAddress.IPv6None) || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal
                || address.IsIPv6Multicast || address.IsIPv6UniqueLocal)
            {
                return true;
            }
            // Addresses that embed an IPv4 one route to it: 6to4 (2002::/16) and NAT64 (64:ff9b::/96).
            Span<byte> b = stackalloc byte[16];
            address.TryWriteBytes(b, out _);
            if (b[0] == 0x20 && b[1] == 0x02)
            {
                return IsInternal(new IPAddress(b.Slice(2, 4)));
            }
            if (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4..12].IndexOfAnyExcept((byte)0) < 0)
            {
                return IsInternal(new IPAddress(b.Slice(12, 4)));
            }
            // The deprecated IPv4-compatible form ::a.b.c.d (RFC 4291 §2.5.5.1) and the rest of ::/96: never a public
            // destination, and some stacks route it to the embedded IPv4 address.
            return b[..12].IndexOfAnyExcept((byte)0) < 0;
        }
        return true;
    }

    /// <summary>
    /// Checks what can be checked before sending, without DNS: the scheme, then the host as the connection will see it
    /// (<see cref="NormalizeHost"/>) — an IP literal in any form .NET accepts (decimal, octal, hex, shortened IPv4;
    /// IPv4-mapped, -compatible, 6to4 and NAT64 IPv6) is checked as the address it is, and names that resolve without
    /// DNS (<c>localhost</c> and its subdomains, the machine's own name, <c>/etc/hosts</c> entries) as the addresses
    /// they resolve to. Everything this refuses the connect-time guard would refuse too; names that need DNS are left
    /// to it.
    /// </summary>
    public static string? ValidateUrl(string value, bool allowPrivate, out Uri? uri)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            uri = null;
            return "must be an absolute http or https URL";
        }
        if (allowPrivate)
        {
            return null;
        }
        string host = NormalizeHost(uri.IdnHost);
        if (host.Length == 0)
        {
            uri = null;
            return "must name a host";
        }
        if (IsInternalWithoutDns(host))
        {
            return "private, loopback and link-local destinations are not allowed (Webhooks:AllowPrivateTargets)";
        }
        return null;
    }

    /// <summary>
    /// The host as a resolver sees it: IPv6 brackets removed, trailing root dots removed (<c>localhost.</c> is
    /// <c>localhost</c>), lower case. <paramref name="idnHost"/> is <see cref="Uri.IdnHost"/>, which is what
    /// <see cref="SocketsHttpHandler"/> resolves and connects to (Unicode names already punycoded, so a lookalike of
    /// <c>localhost</c> is a different, DNS-resolved name that the connect-time check covers).
    /// </summary>
    public static string NormalizeHost(string idnHost)
    {
        var host = idnHost.AsSpan().Trim();
        if (host.Length >= 2 && host[0] == '[' && host[^1] == ']')
        {
            host = host[1..^1];
        }
        host = host.TrimEnd('.');
        return host.ToString().ToLowerInvariant();
    }

    /// <summary>True when <paramref name="host"/> (normalised) is an internal IP literal or a name that resolves to an
    /// internal address without asking DNS.</summary>
    public static bool IsInternalWithoutDns(string host)
    {
        if (IPAddress.TryParse(host, out var literal))
        {
            return IsInternal(literal);
        }
        return host == "localhost" || host.EndsWith(".localhost", StringComparison.Ordinal)
            || LocalNames.Value.Contains(host);
    }

    // Names the resolver answers from the machine itself: its own host name (Debian maps it to 127.0.1.1) and every
    // /etc/hosts name that points at an internal address (ip6-localhost, a pod's own name in Kubernetes …). Read once.
    private static readonly Lazy<HashSet<string>> LocalNames = new(ReadLocalNames);

    private static HashSet<string> ReadLocalNames()
    {
        var names = new HashSet<string>(StringComparer.Ordinal) { NormalizeHost(Dns.GetHostName()) };
        try
        {
            foreach (var line in File.ReadLines("/etc/hosts"))
            {
                var fields = line.Split('#')[0].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length >= 2 && IPAddress.TryParse(fields[0], out var address) && IsInternal(address))
                {
                    foreach (var name in fields.Skip(1))
                    {
                        names.Add(NormalizeHost(name));
                    }
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return names;
    }

    /// <summary>A connect callback that resolves the host itself and connects only to allowed addresses.</summary>
    public static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> ConnectCallback(IOptionsMonitor<WebhookOptions> options)
        => async (context, cancellationToken) =>
        {
            var host = context.DnsEndPoint.Host;
            var normalized = NormalizeHost(host);
            var addresses = IPAddress.TryParse(normalized, out var literal)
                ? [literal]
                : !options.CurrentValue.AllowPrivateTargets && IsInternalWithoutDns(normalized)
                    ? []
                    : await Dns.GetHostAddressesAsync(host, cancellationToken);
            if (!options.CurrentValue.AllowPrivateTargets)
            {
                addresses = addresses.Where(a => !IsInternal(a)).ToArray();
                if (addresses.Length == 0)
                {
                    throw new WebhookTargetRefusedException(
                        $"webhook host '{host}' resolves only to private, loopback or link-local addresses; refused");
                }
            }
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        };
}
