using System.Text;
using System.Text.Json;

namespace StableDiffusion.Server.Api.Edges;

/// <summary>
/// Finds the first JSON string (value or property name) that cannot become a .NET string: a lone UTF-16 surrogate
/// escape (<c>"\ud800"</c>) or bytes that are not UTF-8. System.Text.Json parses both without complaint and throws
/// <see cref="InvalidOperationException"/> only when the string is read, deep inside a handler — a 500 on every
/// surface. Checked once at the edge instead, so it is a 400 naming the field. One pass, no allocation for strings
/// without escapes; syntax errors stop the check and are left to the endpoint, which names them as it always has.
/// </summary>
internal static class JsonTextCheck
{
    /// <summary>Deepest nesting accepted. No request of any surface nests past 4 levels; System.Text.Json's default of 64
    /// is also the depth at which echoing a request back (A1111's <c>parameters</c>) fails, so a body just under it
    /// was a 500.</summary>
    public const int MaxDepth = 32;

    /// <summary>The path of the first invalid string (<c>input.prompt</c>, <c>webhook_events_filter[1]</c>) and what is
    /// wrong with it; null when every string is valid or the text stops being JSON first.</summary>
    public static (string Field, string Problem)? FindInvalidString(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256 });
        var frames = new List<Frame>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        NextElement(frames);
                        if (frames.Count == MaxDepth)
                        {
                            return (Path(frames, null), $"nests deeper than {MaxDepth} levels");
                        }
                        frames.Add(new Frame(reader.TokenType == JsonTokenType.StartArray));
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        frames.RemoveAt(frames.Count - 1);
                        break;
                    case JsonTokenType.PropertyName:
                        if (Problem(ref reader) is { } nameProblem)
                        {
                            return (Path(frames, "(a property name)"), nameProblem);
                        }
                        frames[^1].Name = reader.GetString();
                        break;
                    case JsonTokenType.String:
                        NextElement(frames);
                        if (Problem(ref reader) is { } valueProblem)
                        {
                            return (Path(frames, null), valueProblem);
                        }
                        break;
                    default:
                        NextElement(frames);
                        break;
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON (or nested past 256): the endpoint's own parser reports it, with its line and position.
        }
        return null;
    }

    private static string? Problem(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            return System.Text.Unicode.Utf8.IsValid(reader.ValueSpan) ? null : "is not valid UTF-8 text";
        }
        try
        {
            reader.GetString();
            return null;
        }
        catch (InvalidOperationException)
        {
            return "is not valid Unicode text (a lone UTF-16 surrogate escape such as \\ud800, or bytes that are not UTF-8)";
        }
    }

    private static void NextElement(List<Frame> frames)
    {
        if (frames.Count > 0 && frames[^1].IsArray)
        {
            frames[^1].Index++;
        }
    }

    private static string Path(List<Frame> frames, string? suffix)
    {
        var path = new StringBuilder();
        foreach (var frame in frames)
        {
            if (frame.IsArray)
            {
                path.Append('[').Append(frame.Index - 1).Append(']');
            }
            else if (frame.Name is { } name)
            {
                path.Append(path.Length > 0 ? "." : "").Append(name);
            }
        }
        if (suffix is not null)
        {
            path.Append(path.Length > 0 ? " " : "").Append(suffix);
        }
        return path.Length > 0 ? path.ToString() : "body";
    }

    private sealed class Frame(bool isArray)
    {
        public bool IsArray { get; } = isArray;
        public int Index { get; set; }
        public string? Name { get; set; }
    }
}
