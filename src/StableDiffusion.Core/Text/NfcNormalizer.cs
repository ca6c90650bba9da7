using System.Text;

namespace StableDiffusion.Core.Text;

/// <summary>Unicode NFC (canonical decomposition, canonical ordering, canonical composition) without ICU.</summary>
/// <remarks>
/// Exists because the server runs with InvariantGlobalization, where <see cref="string.Normalize()"/> silently
/// returns its input unchanged, while transformers' BasicTokenizer calls unicodedata.normalize("NFC", ...).
/// Algorithm: Unicode Standard Annex #15; data generated from Python's unicodedata into <see cref="NfcTables"/>.
/// </remarks>
internal static class NfcNormalizer
{
    private const int HangulSBase = 0xAC00, HangulLBase = 0x1100, HangulVBase = 0x1161, HangulTBase = 0x11A7;
    private const int HangulLCount = 19, HangulVCount = 21, HangulTCount = 28;
    private const int HangulNCount = HangulVCount * HangulTCount, HangulSCount = HangulLCount * HangulNCount;

    /// <summary>Returns the NFC form of <paramref name="text"/> (the same instance when nothing can change).</summary>
    public static string Normalize(string text)
    {
        if (IsTriviallyNormalized(text))
        {
            return text;
        }

        var codePoints = new List<int>(text.Length + 8);
        foreach (Rune rune in text.EnumerateRunes())
        {
            Decompose(rune.Value, codePoints);
        }

        ReorderCombiningMarks(codePoints);
        Compose(codePoints);

        var builder = new StringBuilder(codePoints.Count);
        foreach (int cp in codePoints)
        {
            builder.Append(new Rune(cp));
        }

        return builder.ToString();
    }

    // Below U+0300 nothing decomposes or combines (checked against unicodedata when the tables were generated).
    private static bool IsTriviallyNormalized(string text)
    {
        foreach (char c in text)
        {
            if (c >= '\u0300')
            {
                return false;
            }
        }

        return true;
    }

    private static void Decompose(int cp, List<int> output)
    {
        int s = cp - HangulSBase;
        if (s is >= 0 and < HangulSCount)
        {
            output.Add(HangulLBase + s / HangulNCount);
            output.Add(HangulVBase + s % HangulNCount / HangulTCount);
            int t = s % HangulTCount;
            if (t != 0)
            {
                output.Add(HangulTBase + t);
            }

            return;
        }

        int index = NfcTables.DecompositionKeys.BinarySearch(cp);
        if (index < 0)
        {
            output.Add(cp);
            return;
        }

        ReadOnlySpan<int> offsets = NfcTables.DecompositionOffsets;
        foreach (int part in NfcTables.DecompositionData[offsets[index]..offsets[index + 1]])
        {
            output.Add(part);
        }
    }

    private static int CombiningClass(int cp)
    {
        int index = NfcTables.CombiningClassKeys.BinarySearch(cp);
        return index < 0 ? 0 : NfcTables.CombiningClassValues[index];
    }

    // Canonical ordering: a stable sort by combining class of every run of non-starters.
    private static void ReorderCombiningMarks(List<int> codePoints)
    {
        for (int i = 1; i < codePoints.Count; i++)
        {
            int cc = CombiningClass(codePoints[i]);
            if (cc == 0)
            {
                continue;
            }

            for (int j = i; j > 0; j--)
            {
                int previous = CombiningClass(codePoints[j - 1]);
                if (previous <= cc)
                {
                    break;
                }

                (codePoints[j - 1], codePoints[j]) = (codePoints[j], codePoints[j - 1]);
            }
        }
    }

    private static void Compose(List<int> codePoints)
    {
        if (codePoints.Count < 2)
        {
            return;
        }

        int starterIndex = CombiningClass(codePoints[0]) == 0 ? 0 : -1;
        // Class of the last character kept; 0 means it is the starter itself, 256 blocks everything.
        int lastClass = starterIndex == 0 ? 0 : 256;
        int write = 1;
        for (int read = 1; read < codePoints.Count; read++)
        {
            int cp = codePoints[read];
            int cc = CombiningClass(cp);
            // Not blocked: adjacent to the starter, or every character in between has a lower class.
            bool reachable = starterIndex >= 0 && (lastClass == 0 || lastClass < cc);
            if (reachable && TryCompose(codePoints[starterIndex], cp, out int composite))
            {
                codePoints[starterIndex] = composite;
                continue;
            }

            if (cc == 0)
            {
                starterIndex = write;
            }

            lastClass = cc;
            codePoints[write++] = cp;
        }

        codePoints.RemoveRange(write, codePoints.Count - write);
    }

    private static bool TryCompose(int first, int second, out int composite)
    {
        int l = first - HangulLBase, v = second - HangulVBase;
        if (l is >= 0 and < HangulLCount && v is >= 0 and < HangulVCount)
        {
            composite = HangulSBase + (l * HangulVCount + v) * HangulTCount;
            return true;
        }

        int s = first - HangulSBase, t = second - HangulTBase;
        if (s is >= 0 and < HangulSCount && s % HangulTCount == 0 && t is > 0 and < HangulTCount)
        {
            composite = first + t;
            return true;
        }

        int index = NfcTables.CompositionKeys.BinarySearch(((long)first << 21) | (uint)second);
        composite = index < 0 ? 0 : NfcTables.CompositionValues[index];
        return index >= 0;
    }
}
