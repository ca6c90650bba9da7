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
            return false;
        }
        return true;
    }

    /// <summary>Checks what can be checked before sending: scheme, and literal or well-known internal hosts.</summary>
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
        if (uri.IsLoopback || uri.Host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(uri.IdnHost, out var ip) && IsInternal(ip)))
        {
            return "private, loopback and link-local destinations are not allowed (Webhooks:AllowPrivateTargets)";
        }
        return null;
    }

    /// <summary>A connect callback that resolves the host itself and connects only to allowed addresses.</summary>
    public static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> ConnectCallback(IOptionsMonitor<WebhookOptions> options)
        => async (context, cancellationToken) =>
        {
            var host = context.DnsEndPoint.Host;
            var addresses = IPAddress.TryParse(host, out var literal)
                ? [literal]
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
