using System.Security.Cryptography;

namespace StableDiffusion.Server.Jobs;

/// <summary>Random identifiers shaped like Replicate's (26 lowercase base32 characters).</summary>
internal static class Ids
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    public static string New()
    {
        Span<byte> bytes = stackalloc byte[26];
        RandomNumberGenerator.Fill(bytes);
        Span<char> chars = stackalloc char[26];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = Alphabet[bytes[i] & 31];
        }
        return new string(chars);
    }
}
