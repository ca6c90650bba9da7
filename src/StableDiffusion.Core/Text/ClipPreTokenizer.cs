using System.Globalization;
using System.Text;

namespace StableDiffusion.Core.Text;

/// <summary>CLIP's pre-tokenizer: the words <c>re.findall</c> returns for CLIPTokenizer's regex.</summary>
/// <remarks>
/// The regex is <c>&lt;\|startoftext\|&gt;|&lt;\|endoftext\|&gt;|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+</c>
/// with IGNORECASE, run by Python's <c>regex</c> module over code points. It is scanned by hand because .NET's
/// Regex works on UTF-16 units: a letter or digit outside the BMP (𝐀, 𝟏) would be two surrogates there and fall
/// into the punctuation class. Alternatives are tried in order at each position, first match wins, as in the regex.
/// </remarks>
internal static class ClipPreTokenizer
{
    private static readonly string[] SpecialWords = ["<|startoftext|>", "<|endoftext|>"];
    private static readonly string[] Contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

    public static List<string> Split(string text)
    {
        var words = new List<string>();
        int i = 0;
        while (i < text.Length)
        {
            Rune rune = RuneAt(text, i);
            if (IsWhitespace(rune))
            {
                i += rune.Utf16SequenceLength;
                continue;
            }

            int length = MatchLiteral(text, i, SpecialWords);
            if (length == 0)
            {
                length = MatchLiteral(text, i, Contractions);
            }

            if (length == 0)
            {
                length = MatchClass(text, i, rune);
            }

            words.Add(text.Substring(i, length));
            i += length;
        }

        return words;
    }

    private static int MatchClass(string text, int start, Rune first)
    {
        if (IsLetter(first))
        {
            int end = start;
            while (end < text.Length && RuneAt(text, end) is var r && IsLetter(r))
            {
                end += r.Utf16SequenceLength;
            }

            return end - start;
        }

        if (IsNumber(first))
        {
            // [\p{N}] without a quantifier: digits become one word each.
            return first.Utf16SequenceLength;
        }

        int stop = start;
        while (stop < text.Length && RuneAt(text, stop) is var r && !IsWhitespace(r) && !IsLetter(r) && !IsNumber(r))
        {
            stop += r.Utf16SequenceLength;
        }

        return stop - start;
    }

    private static int MatchLiteral(string text, int start, string[] literals)
    {
        foreach (string literal in literals)
        {
            if (start + literal.Length > text.Length)
            {
                continue;
            }

            bool match = true;
            for (int k = 0; k < literal.Length && match; k++)
            {
                match = EqualsIgnoreCase(text[start + k], literal[k]);
            }

            if (match)
            {
                return literal.Length;
            }
        }

        return 0;
    }

    // IGNORECASE in the regex module uses simple case folding: besides the ASCII upper case (gone after
    // lowercasing), U+017F ſ folds to 's' and U+212A (Kelvin) to 'k'.
    private static bool EqualsIgnoreCase(char c, char literal) =>
        c == literal || char.ToLowerInvariant(c) == literal || (literal == 's' && c == '\u017F');

    private static Rune RuneAt(string text, int index) =>
        Rune.DecodeFromUtf16(text.AsSpan(index), out Rune rune, out _) == System.Buffers.OperationStatus.Done
            ? rune
            : Rune.ReplacementChar;

    private static bool IsWhitespace(Rune rune) => Rune.IsWhiteSpace(rune);

    private static bool IsLetter(Rune rune) => Rune.GetUnicodeCategory(rune) is UnicodeCategory.UppercaseLetter
        or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter or UnicodeCategory.ModifierLetter
        or UnicodeCategory.OtherLetter;

    private static bool IsNumber(Rune rune) => Rune.GetUnicodeCategory(rune) is UnicodeCategory.DecimalDigitNumber
        or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber;
}
