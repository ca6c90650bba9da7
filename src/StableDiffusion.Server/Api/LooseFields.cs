using System.Globalization;
using System.Text.Json;

namespace StableDiffusion.Server.Api;

/// <summary>
/// Reads typed fields from a client's JSON object or multipart form the way the compatibility surfaces' originals do:
/// numbers and booleans may also arrive as strings (pydantic coerces them for AUTOMATIC1111; multipart forms carry only
/// strings for OpenAI's edits). A wrong type is recorded against its field; unknown fields are simply never read.
/// </summary>
internal sealed class LooseFields
{
    /// <summary>One field's value: a JSON value, or a form field's text (read as a JSON string would be).</summary>
    private readonly record struct Raw(JsonValueKind Kind, JsonElement Json, string? Text);

    private readonly Func<string, Raw?> _find;

    public LooseFields(JsonElement root)
        => _find = name => root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? new Raw(value.ValueKind, value, value.ValueKind == JsonValueKind.String ? value.GetString() : null)
            : null;

    /// <summary>Multipart form fields, taken as they are: text. Names match exactly, as JSON property names do.</summary>
    public LooseFields(IFormCollection form)
        => _find = name => form.TryGetValue(name, out var value) && form.Keys.Contains(name, StringComparer.Ordinal)
            ? new Raw(JsonValueKind.String, default, value.ToString())
            : null;

    public Dictionary<string, string> Errors { get; } = new();

    public bool Has(string name) => _find(name) is not null;

    public string? String(string name)
    {
        if (_find(name) is not { } value)
        {
            return null;
        }
        if (value.Kind == JsonValueKind.String)
        {
            return value.Text;
        }
        Errors[name] = "must be a string";
        return null;
    }

    public long? Long(string name)
    {
        if (_find(name) is not { } value)
        {
            return null;
        }
        if (value.Kind == JsonValueKind.Number && value.Json.TryGetDouble(out var d) && double.IsInteger(d) && Math.Abs(d) < 1e18)
        {
            return (long)d;
        }
        if (value.Kind == JsonValueKind.String
            && long.TryParse(value.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed))
        {
            return parsed;
        }
        Errors[name] = "must be an integer";
        return null;
    }

    public int? Int(string name)
    {
        var value = Long(name);
        if (value is null)
        {
            return null;
        }
        if (value < int.MinValue || value > int.MaxValue)
        {
            Errors[name] = "is out of range";
            return null;
        }
        return (int)value;
    }

    public double? Double(string name)
    {
        if (_find(name) is not { } value)
        {
            return null;
        }
        if (value.Kind == JsonValueKind.Number)
        {
            return value.Json.GetDouble();
        }
        if (value.Kind == JsonValueKind.String
            && double.TryParse(value.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) && double.IsFinite(parsed))
        {
            return parsed;
        }
        Errors[name] = "must be a number";
        return null;
    }

    public bool? Bool(string name)
    {
        if (_find(name) is not { } value)
        {
            return null;
        }
        switch (value.Kind)
        {
            case JsonValueKind.True: return true;
            case JsonValueKind.False: return false;
            case JsonValueKind.String when bool.TryParse(value.Text, out var parsed): return parsed;
            default:
                Errors[name] = "must be a boolean";
                return null;
        }
    }

    /// <summary>A nested object (e.g. A1111's <c>override_settings</c>); null when absent.</summary>
    public LooseFields? Object(string name)
    {
        if (_find(name) is not { } value)
        {
            return null;
        }
        if (value.Kind == JsonValueKind.Object)
        {
            return new LooseFields(value.Json);
        }
        Errors[name] = "must be an object";
        return null;
    }

    /// <summary>An array of strings; a single string is taken as a one-element array.</summary>
    public IReadOnlyList<string>? Strings(string name)
    {
        if (_find(name) is not { } value)
        {
            return null;
        }
        if (value.Kind == JsonValueKind.String)
        {
            return [value.Text!];
        }
        if (value.Kind == JsonValueKind.Array && value.Json.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String))
        {
            return value.Json.EnumerateArray().Select(e => e.GetString()!).ToArray();
        }
        Errors[name] = "must be an array of strings";
        return null;
    }
}
