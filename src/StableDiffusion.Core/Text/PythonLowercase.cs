using System.Globalization;
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
                output.Append(Rune.ToLowerInvariant(rune).ToString());
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

    // Approximations of the derived properties from their main ingredients (general categories, the apostrophes
    // and dots of Word_Break MidLetter/MidNumLet/Single_Quote); only the Σ context depends on them.
    private static bool IsCased(Rune rune) =>
        Rune.GetUnicodeCategory(rune) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter
            or UnicodeCategory.TitlecaseLetter;

    private static bool IsCaseIgnorable(Rune rune) =>
        rune.Value is '\'' or '.' or ':' or '^' or '`' or 0x00B7 or 0x2018 or 0x2019 or 0x2024 or 0x2027
        || Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark
            or UnicodeCategory.Format or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol;
}
