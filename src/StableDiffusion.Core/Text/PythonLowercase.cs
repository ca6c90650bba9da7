using System.Text;

namespace StableDiffusion.Core.Text;

/// <summary>Python's <c>str.lower()</c>, which differs from .NET's simple case mapping in two places.</summary>
/// <remarks>
/// CPython applies the full lowercase mapping (U+0130 İ becomes "i̇", two code points) and the Final_Sigma rule
/// (Σ becomes ς at the end of a word, σ elsewhere). Everything else is the simple mapping that
/// <see cref="Rune.ToLowerInvariant"/> gives, also under InvariantGlobalization.
/// </remarks>
internal static class PythonLowercase
{
    private const int CapitalSigma = 0x03A3;

    public static void AppendLower(ReadOnlySpan<char> word, StringBuilder output)
    {
        int index = 0;
        while (index < word.Length)
        {
            Rune.DecodeFromUtf16(word[index..], out Rune rune, out int consumed);
            if (rune.Value == 0x0130)
            {
                output.Append("i\u0307");
            }
            else if (rune.Value == CapitalSigma)
            {
                output.Append(IsFinalSigma(word, index, consumed) ? '\u03C2' : '\u03C3');
            }
            else
            {
                output.Append(Rune.ToLowerInvariant(rune));
            }

            index += consumed;
        }
    }

    // CPython's handle_capital_sigma: \p{Cased}\p{Case_Ignorable}* Σ !(\p{Case_Ignorable}* \p{Cased}).
    private static bool IsFinalSigma(ReadOnlySpan<char> word, int sigmaIndex, int sigmaLength)
    {
        int i = sigmaIndex;
        bool casedBefore = false;
        while (i > 0)
        {
            Rune.DecodeLastFromUtf16(word[..i], out Rune previous, out int length);
            i -= length;
            if (!IsCaseIgnorable(previous))
            {
                casedBefore = IsCased(previous);
                break;
            }
        }

        if (!casedBefore)
        {
            return false;
        }

        i = sigmaIndex + sigmaLength;
        while (i < word.Length)
        {
            Rune.DecodeFromUtf16(word[i..], out Rune next, out int length);
            i += length;
            if (!IsCaseIgnorable(next))
            {
                return !IsCased(next);
            }
        }

        return true;
    }

    // The derived properties CPython reads from its own tables; generated into CaseTables from Python.
    private static bool IsCased(Rune rune) => InRanges(CaseTables.CasedRanges, rune.Value);

    private static bool IsCaseIgnorable(Rune rune) => InRanges(CaseTables.CaseIgnorableRanges, rune.Value);

    private static bool InRanges(ReadOnlySpan<int> ranges, int cp)
    {
        int lo = 0, hi = ranges.Length / 2 - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (cp < ranges[2 * mid])
            {
                hi = mid - 1;
            }
            else if (cp > ranges[2 * mid + 1])
            {
                lo = mid + 1;
            }
            else
            {
                return true;
            }
        }

        return false;
    }
}
