using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StableDiffusion.Synthetic;

/// <summary>Writes configuration JSON the way Hugging Face's libraries do: indented, non-ASCII kept as is, trailing newline.</summary>
internal static class JsonFiles
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void Write(string path, JsonNode node)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, node.ToJsonString(Options) + "\n");
    }

    /// <summary>A JSON array of numbers.</summary>
    public static JsonArray Array(IEnumerable<int> values) => new([.. values.Select(v => (JsonNode?)JsonValue.Create(v))]);

    /// <summary>A JSON array of strings (null entries stay null, as in diffusers' <c>[null, null]</c> component entries).</summary>
    public static JsonArray Array(params string?[] values) => new([.. values.Select(v => v is null ? null : (JsonNode?)JsonValue.Create(v))]);
}
