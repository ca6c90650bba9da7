using System.Globalization;
using System.Text;

namespace StableDiffusion.Core.Text;

/// <summary>The text clean-up transformers' CLIPTokenizer applies when ftfy is not installed (diffusers' default).</summary>
/// <remarks>
/// Mirrors transformers' BasicTokenizer(strip_accents=False, do_split_on_punc=False) followed by
/// <c>" ".join(...)</c> in CLIPTokenizer._tokenize: drop NUL, U+FFFD and control/format/unassigned characters
/// (category C*, except tab/newline/CR), map whitespace to spaces, put spaces around CJK ideographs, NFC,
/// split on Python's str.split() whitespace, lowercase each word as Python's str.lower() does. Accents are kept and
/// punctuation is not split. The result holds words separated by single spaces.
/// General categories come from the .NET runtime's Unicode tables, so a character assigned after Unicode 14 (say a
/// Unicode 15 emoji) is kept, as Python 3.12+ keeps it, where Python 3.11 (Unicode 14) drops it as unassigned.
/// </remarks>
internal static class ClipBasicTokenizer
{
    public static string Clean(string text)
    {
        var cleaned = new StringBuilder(text.Length + 8);
        foreach (Rune rune in text.EnumerateRunes())
        {
            // EnumerateRunes turns a lone surrogate into U+FFFD; Python sees it as category Cs: both are dropped.
            int cp = rune.Value;
            if (cp == 0 || cp == 0xFFFD || IsControl(rune))
            {
                continue;
            }

            if (IsWhitespace(rune))
            {
                cleaned.Append(' ');
            }
            else if (IsCjkIdeograph(cp))
            {
                cleaned.Append(' ').Append(rune).Append(' ');
            }
            else
            {
                cleaned.Append(rune);
            }
        }

        string normalized = NfcNormalizer.Normalize(cleaned.ToString());

        var output = new StringBuilder(normalized.Length);
        int wordStart = -1;
        for (int i = 0; i <= normalized.Length; i++)
        {
            bool separator = i == normalized.Length || IsPythonSplitWhitespace(normalized[i]);
            if (!separator)
            {
                if (wordStart < 0)
                {
                    wordStart = i;
                }

                continue;
            }

            if (wordStart >= 0)
            {
                if (output.Length > 0)
                {
                    output.Append(' ');
                }

                PythonLowercase.AppendLower(normalized.AsSpan(wordStart, i - wordStart), output);
                wordStart = -1;
            }
        }

        return output.ToString();
    }

    // transformers' _is_control: tab, newline and CR are whitespace, everything in a C* category is dropped.
    private static bool IsControl(Rune rune)
    {
        if (rune.Value is '\t' or '\n' or '\r')
        {
            return false;
        }

        return Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned;
    }

    // transformers' _is_whitespace: space, tab, newline, CR and category Zs.
    private static bool IsWhitespace(Rune rune) =>
        rune.Value is ' ' or '\t' or '\n' or '\r' || Rune.GetUnicodeCategory(rune) == UnicodeCategory.SpaceSeparator;

    // After the clean-up only spaces and the line/paragraph separators (Zl, Zp, which BasicTokenizer keeps) are
    // left of what Python's str.split() treats as whitespace; the other isspace() characters are Cc or Zs.
    private static bool IsPythonSplitWhitespace(char c) => c is ' ' or '\u2028' or '\u2029';

    // BasicTokenizer._is_chinese_char: the CJK Unified Ideographs blocks and compatibility ideographs only.
    private static bool IsCjkIdeograph(int cp) =>
        cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF)
            or (>= 0x2A700 and <= 0x2B73F) or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B820 and <= 0x2CEAF)
            or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);
}
