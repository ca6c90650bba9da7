using System.Text;
using StableDiffusion.Core.Text;

namespace StableDiffusion.Core.Tests.Text;

/// <summary>Python's str.lower(), which BasicTokenizer applies per word. Expected strings: CPython 3.11 <c>s.lower()</c>.</summary>
public sealed class PythonLowercaseTests
{
    [Theory]
    [InlineData("\u039F\u0394\u039F\u03A3", "\u03BF\u03B4\u03BF\u03C2")] // ΟΔΟΣ -> οδος: final sigma
    [InlineData("\u039F\u0394\u039F\u03A3\u216B", "\u03BF\u03B4\u03BF\u03C3\u217B")] // Ⅻ is Cased (Other_Uppercase): not final
    [InlineData("\u0391\u03A3'\u0392", "\u03B1\u03C3'\u03B2")] // the apostrophe is case-ignorable, Β follows
    [InlineData("\u0391\u03A3\u0301", "\u03B1\u03C2\u0301")] // a combining accent after the sigma is skipped
    [InlineData("\u0391\u03A3.", "\u03B1\u03C2.")]
    [InlineData("\u03A3", "\u03C3")] // nothing cased before it
    [InlineData("\u03A3\u0391\u03A3", "\u03C3\u03B1\u03C2")]
    [InlineData("\u0130", "i\u0307")] // full lowercase mapping: two code points
    [InlineData("CAFÉ \u01C5 \U00010400", "café \u01C6 \U00010428")] // simple mappings, titlecase, outside the BMP
    public void Lowercases_like_cpython(string word, string expected)
    {
        var output = new StringBuilder();

        PythonLowercase.AppendLower(word, output);

        Assert.Equal(expected, output.ToString());
    }
}
