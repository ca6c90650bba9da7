using StableDiffusion.Server.Configuration;
using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace StableDiffusion.Server.Outputs;

/// <summary>
/// Signs and checks expiring links to <c>/v1/files/{id}</c>: <c>?expires={unix seconds}&amp;sig={base64url HMAC-SHA256
/// of "id\nexpires"}</c>. Any replica holding the same key can serve any replica's link; the server stays stateless.
/// </summary>
internal sealed class FileUrlSigner
{
    /// <summary>Bytes of key this process generates when none is configured (HMAC-SHA256's block-size worth is plenty).</summary>
    private const int GeneratedKeyBytes = 32;

    private readonly byte[] _key;

    public FileUrlSigner(byte[] key)
    {
        if (key.Length < 16)
        {
            throw new ArgumentException("a signing key needs at least 16 bytes", nameof(key));
        }
        _key = key.ToArray();
    }

    /// <summary>
    /// The configured <c>Outputs:SigningKey</c>, or else a random key kept in <paramref name="dataDirectory"/> so that
    /// links survive restarts and replicas sharing that directory agree. Several processes starting at once agree on
    /// one key: the file is created by an atomic no-overwrite rename, and the losers read the winner's.
    /// </summary>
    public static FileUrlSigner Create(string? configuredKey, string dataDirectory)
    {
        if (!string.IsNullOrEmpty(configuredKey))
        {
            return new FileUrlSigner(Encoding.UTF8.GetBytes(configuredKey));
        }
        return new FileUrlSigner(GeneratedKeys.ReadOrCreate(dataDirectory, "signing-key", GeneratedKeyBytes));
    }

    /// <summary>The query string (without <c>?</c>) that makes <paramref name="fileId"/>'s link valid until <paramref name="expires"/>.</summary>
    public string Query(string fileId, DateTimeOffset expires)
    {
        var seconds = expires.ToUnixTimeSeconds();
        return $"expires={seconds.ToString(CultureInfo.InvariantCulture)}&sig={Base64Url.EncodeToString(Mac(fileId, seconds))}";
    }

    /// <summary>
    /// True when <paramref name="signature"/> is this key's signature of the id and expiry, and the expiry has not
    /// passed. The comparison takes the same time however many bytes match, so a forger learns nothing from timing.
    /// </summary>
    public bool Verify(string fileId, string? expires, string? signature, DateTimeOffset now)
    {
        if (!long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || string.IsNullOrEmpty(signature)
            || now.ToUnixTimeSeconds() > seconds)
        {
            return false;
        }
        Span<byte> given = stackalloc byte[HMACSHA256.HashSizeInBytes];
        if (!Base64Url.TryDecodeFromChars(signature, given, out var written) || written != given.Length)
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(given, Mac(fileId, seconds));
    }

    private byte[] Mac(string fileId, long expires)
        => HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(fileId + "\n" + expires.ToString(CultureInfo.InvariantCulture)));
}
