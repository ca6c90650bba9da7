using StableDiffusion.Core.Text;

namespace StableDiffusion.Core.Tests.Text;

/// <summary>NFC without ICU (string.Normalize is a no-op under InvariantGlobalization). Expected strings: Python's unicodedata.normalize("NFC", ...).</summary>
public sealed class NfcNormalizerTests
{
    [Theory]
    [InlineData("cafe\u0301", "caf\u00E9")]
    [InlineData("\u212B", "\u00C5")] // Angstrom sign: singleton decomposition to Å
    [InlineData("\uF900", "\u8C48")] // CJK compatibility ideograph
    [InlineData("\u1100\u1161\u11A8", "\uAC01")] // Hangul L V T jamo -> 각
    [InlineData("a\u0301\u0323", "\u1EA1\u0301")] // reordered (dot below, class 220, before acute, 230), then composed: ạ́
    [InlineData("\u0301a", "\u0301a")] // a leading combining mark has nothing to compose with
    [InlineData("\u1E0B\u0323", "\u1E0D\u0307")] // ḋ + dot below -> ḍ + dot above
    [InlineData("\u0344", "\u0308\u0301")] // composition exclusion: stays decomposed
    [InlineData("plain ascii", "plain ascii")]
    public void Normalizes_like_python_unicodedata(string input, string expected)
    {
        Assert.Equal(expected, NfcNormalizer.Normalize(input));
    }
}
