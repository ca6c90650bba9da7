using System.Globalization;
using System.Text;
using System.Text.Json;
using StableDiffusion.Core.Text;

namespace StableDiffusion.Core.Tests.Text;

/// <summary>
/// Opt-in differential test: thousands of random prompts against reference/clip_tokenizer_reference.py, written by
/// reference/generate_fuzz_cases.py into the file named by CLIP_TOKENIZER_FUZZ. Skipped when that variable is unset.
/// </summary>
public sealed class ClipTokenizerFuzzTests
{
    private const string Variable = "CLIP_TOKENIZER_FUZZ";

    public sealed class FuzzFactAttribute : FactAttribute
    {
        public FuzzFactAttribute()
        {
            if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Variable)))
            {
                Skip = $"Set {Variable} to a file from reference/generate_fuzz_cases.py to run the differential test.";
            }
        }
    }

    [FuzzFact]
    public void Random_prompts_match_the_python_reference()
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(Environment.GetEnvironmentVariable(Variable)!));
        ClipTokenizer sd2 = ClipTestData.Sd2();
        ClipTokenizer sd1 = ClipTestData.Sd1();
        var failures = new StringBuilder();
        int compared = 0, differing = 0;

        foreach (JsonElement item in document.RootElement.GetProperty("cases").EnumerateArray())
        {
            // Characters unassigned in the generating Python but assigned in .NET's tables tokenize differently by design.
            if (item.GetProperty("cn").EnumerateArray().Any(cp => Rune.GetUnicodeCategory(new Rune(cp.GetInt32())) != UnicodeCategory.OtherNotAssigned))
            {
                continue;
            }

            string prompt = item.GetProperty("p").GetString()!;
            int[] expected2 = [.. item.GetProperty("sd2").EnumerateArray().Select(e => e.GetInt32())];
            int[] expected1 = [.. item.GetProperty("sd1").EnumerateArray().Select(e => e.GetInt32())];
            compared++;
            if (!sd2.EncodeTokens(prompt).SequenceEqual(expected2) || !sd1.EncodeTokens(prompt).SequenceEqual(expected1))
            {
                differing++;
                if (differing <= 10)
                {
                    failures.AppendLine(JsonSerializer.Serialize(prompt));
                }
            }
        }

        Assert.True(differing == 0, $"{differing} of {compared} prompts differ, e.g.:\n{failures}");
        Assert.True(compared > 0, "The fuzz file holds no comparable prompts.");
    }
}
