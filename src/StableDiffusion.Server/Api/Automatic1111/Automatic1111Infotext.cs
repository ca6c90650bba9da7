using System.Text.RegularExpressions;
using System.Text.Json.Nodes;

namespace StableDiffusion.Server.Api.Automatic1111;

/// <summary>A1111's <c>parse_generation_parameters</c> (modules/infotext_utils.py): an infotext as the dictionary
/// /sdapi/v1/png-info returns — Prompt, Negative prompt, then each "Key: value" of the last line as text, a size
/// ("Size: 512x768") split into "Size-1" and "Size-2".</summary>
internal static partial class Automatic1111Infotext
{
    // A1111's re_param and re_imagesize.
    [GeneratedRegex("""\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)""")]
    private static partial Regex Param();

    [GeneratedRegex(@"^(\d+)x(\d+)$")]
    private static partial Regex ImageSize();

    public static JsonObject Parse(string text)
    {
        var lines = text.Trim().Split('\n');
        var last = lines[^1];
        var pairs = Param().Matches(last);
        var (prompt, negative) = (new List<string>(), new List<string>());
        var inNegative = false;
        // Fewer than 3 pairs: the last line is part of the prompt, as A1111 decides.
        foreach (var line in pairs.Count < 3 ? lines : lines[..^1])
        {
            var current = line.Trim();
            if (current.StartsWith("Negative prompt:", StringComparison.Ordinal))
            {
                inNegative = true;
                current = current["Negative prompt:".Length..].TrimStart();
            }
            (inNegative ? negative : prompt).Add(current);
        }

        var result = new JsonObject { ["Prompt"] = string.Join("\n", prompt), ["Negative prompt"] = string.Join("\n", negative) };
        foreach (Match pair in pairs.Count < 3 ? Enumerable.Empty<Match>() : pairs)
        {
            var (key, value) = (pair.Groups[1].Value.Trim(), pair.Groups[2].Value.Trim());
            if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
            {
                value = Regex.Unescape(value[1..^1]);
            }
            if (ImageSize().Match(value) is { Success: true } size)
            {
                result[key + "-1"] = size.Groups[1].Value;
                result[key + "-2"] = size.Groups[2].Value;
            }
            else
            {
                result[key] = value;
            }
        }
        return result;
    }
}
