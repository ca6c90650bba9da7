using System.Text;
using System.Text.Json;

namespace StableDiffusion.Core.Models;

/// <summary>Reads the JSON that Python's <c>json</c> module writes, which is JSON plus the bare literals <c>NaN</c>,
/// <c>Infinity</c> and <c>-Infinity</c> (diffusers saves <c>"lambda_min_clipped": -Infinity</c> in DPM-Solver configs).</summary>
/// <remarks>
/// System.Text.Json rejects those literals outside strings, so they are rewritten to the strings "NaN", "Infinity" and
/// "-Infinity" before parsing (text inside strings is left alone), and <see cref="TryGetDouble"/> reads a number or one
/// of those strings. Every model-folder JSON reader goes through here.
/// </remarks>
public static class PythonJson
{
    /// <summary>Parses <paramref name="json"/> after rewriting Python's non-finite literals.</summary>
    /// <exception cref="JsonException">The text is not JSON even with the literals allowed.</exception>
    public static JsonDocument Parse(string json) => JsonDocument.Parse(Normalize(json));

    /// <summary>The text with bare <c>NaN</c>/<c>Infinity</c>/<c>-Infinity</c> turned into quoted strings; other text unchanged.</summary>
    public static string Normalize(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (!json.Contains("NaN", StringComparison.Ordinal) && !json.Contains("Infinity", StringComparison.Ordinal))
        {
            return json;
        }

        var output = new StringBuilder(json.Length + 16);
        var inString = false;
        for (var i = 0; i < json.Length; i++)
        {
            var c = json[i];
            if (inString)
            {
                output.Append(c);
                if (c == '\\' && i + 1 < json.Length)
                {
                    output.Append(json[++i]);
                }
                else if (c == '"')
                {
                    inString = false;
                }

                continue;
            }

            if (c == '"')
            {
                inString = true;
                output.Append(c);
            }
            else if (Literal(json, i, "-Infinity") || Literal(json, i, "Infinity") || Literal(json, i, "NaN"))
            {
                var word = json[i] == '-' ? "-Infinity" : json[i] == 'I' ? "Infinity" : "NaN";
                output.Append('"').Append(word).Append('"');
                i += word.Length - 1;
            }
            else
            {
                output.Append(c);
            }
        }

        return output.ToString();
    }

    /// <summary>A JSON number, or one of the strings "NaN", "Infinity", "-Infinity" (Python's literals after <see cref="Parse"/>).</summary>
    public static bool TryGetDouble(JsonElement element, out double value)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Number:
                return element.TryGetDouble(out value);
            case JsonValueKind.String:
                switch (element.GetString())
                {
                    case "NaN":
                        value = double.NaN;
                        return true;
                    case "Infinity":
                        value = double.PositiveInfinity;
                        return true;
                    case "-Infinity":
                        value = double.NegativeInfinity;
                        return true;
                }

                break;
        }

        value = 0;
        return false;
    }

    // A literal starts here when the word matches and is not part of a longer identifier.
    private static bool Literal(string json, int index, string word) =>
        string.CompareOrdinal(json, index, word, 0, word.Length) == 0
        && (index + word.Length == json.Length || !char.IsLetterOrDigit(json[index + word.Length]));
}
