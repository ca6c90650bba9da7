using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;

namespace StableDiffusion.Server.Webhooks;

/// <summary>
/// Signs webhook deliveries as Replicate does (the Standard Webhooks scheme): headers <c>webhook-id</c>,
/// <c>webhook-timestamp</c> and <c>webhook-signature: v1,base64(HMAC-SHA256(key, "id.timestamp.body"))</c>, so the
/// <c>replicate</c> client's <c>validateWebhook</c> verifies them with the secret from <c>/v1/webhooks/default/secret</c>.
/// </summary>
internal sealed class WebhookSigner
{
    private readonly byte[] _key;

    public WebhookSigner(IOptions<WebhookOptions> options, IOptions<StorageOptions> storage)
    {
        var configured = options.Value.SigningSecret;
        // Without a configured secret one is made up and kept in the data directory: it survives restarts, and the
        // replicas that share the directory (the API that publishes it, the worker that signs) agree on it.
        _key = string.IsNullOrEmpty(configured)
            ? GeneratedKeys.ReadOrCreate(storage.Value.ResolvedDataDirectory, "webhook-secret", 32)
            : Convert.FromBase64String(configured["whsec_".Length..]);
        Secret = "whsec_" + Convert.ToBase64String(_key);
    }

    /// <summary>The secret in Replicate's format (<c>whsec_</c> + base64 key).</summary>
    public string Secret { get; }

    public void Sign(HttpRequestMessage request, string messageId, DateTimeOffset timestamp, byte[] body)
    {
        var seconds = timestamp.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var signed = new List<byte>(Encoding.UTF8.GetBytes($"{messageId}.{seconds}."));
        signed.AddRange(body);
        var signature = Convert.ToBase64String(HMACSHA256.HashData(_key, signed.ToArray()));
        request.Headers.TryAddWithoutValidation("webhook-id", messageId);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", seconds);
        request.Headers.TryAddWithoutValidation("webhook-signature", "v1," + signature);
    }

    public static bool IsValidSecret(string? secret)
    {
        if (string.IsNullOrEmpty(secret))
        {
            return true;
        }
        if (!secret.StartsWith("whsec_", StringComparison.Ordinal))
        {
            return false;
        }
        Span<byte> buffer = stackalloc byte[secret.Length];
        return Convert.TryFromBase64String(secret["whsec_".Length..], buffer, out var written) && written >= 16;
    }
}
