using System.Globalization;
using System.Text.Json;

namespace StableDiffusion.Server.Api;

/// <summary>
/// Reads typed fields from a client's JSON object the way the compatibility surfaces' originals do: numbers and
/// booleans may also arrive as strings (pydantic coerces them for AUTOMATIC1111; multipart forms carry only strings
/// for OpenAI's edits). A wrong type is recorded against its field; unknown fields are simply never read.
/// </summary>
public sealed class LooseFields(JsonElement root)
{
    public Dictionary<string, string> Errors { get; } = new();

    public bool Has(string name) => root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

    public string? String(string name)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }
        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString();
        }
        Errors[name] = "must be a string";
        return null;
    }

    public long? Long(string name)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var d) && double.IsInteger(d) && Math.Abs(d) < 1e18)
        {
            return (long)d;
        }
        if (value.ValueKind == JsonValueKind.String
            && long.TryParse(value.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed))
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
        if (!TryGet(name, out var value))
        {
            return null;
        }
        if (value.ValueKind == JsonValueKind.Number)
        {
            return value.GetDouble();
        }
        if (value.ValueKind == JsonValueKind.String
            && double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) && double.IsFinite(parsed))
        {
            return parsed;
        }
        Errors[name] = "must be a number";
        return null;
    }

    public bool? Bool(string name)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }
        switch (value.ValueKind)
        {
            case JsonValueKind.True: return true;
            case JsonValueKind.False: return false;
            case JsonValueKind.String when bool.TryParse(value.GetString(), out var parsed): return parsed;
            default:
                Errors[name] = "must be a boolean";
                return null;
        }
    }

    /// <summary>A nested object (e.g. A1111's <c>override_settings</c>); null when absent.</summary>
    public LooseFields? Object(string name)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }
        if (value.ValueKind == JsonValueKind.Object)
        {
            return new LooseFields(value);
        }
        Errors[name] = "must be an object";
        return null;
    }

    /// <summary>An array of strings; a single string is taken as a one-element array.</summary>
    public IReadOnlyList<string>? Strings(string name)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }
        if (value.ValueKind == JsonValueKind.String)
        {
            return [value.GetString()!];
        }
        if (value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String))
        {
            return value.EnumerateArray().Select(e => e.GetString()!).ToArray();
        }
        Errors[name] = "must be an array of strings";
        return null;
    }

    private bool TryGet(string name, out JsonElement value)
        => root.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;
}
