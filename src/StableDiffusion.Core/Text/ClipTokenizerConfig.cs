using System.Text.Json;

namespace StableDiffusion.Core.Text;

/// <summary>What a tokenizer folder's special_tokens_map.json and tokenizer_config.json say about special tokens.</summary>
/// <remarks>
/// An added token's lstrip/rstrip flags are not modelled: they only eat whitespace next to the token, which CLIP's
/// clean-up drops anyway, so the ids are the same. single_word (false in every SD tokenizer) is not supported.
/// </remarks>
/// <param name="BosToken">Beginning of sequence (<c>&lt;|startoftext|&gt;</c> for CLIP).</param>
/// <param name="EosToken">End of sequence (<c>&lt;|endoftext|&gt;</c>).</param>
/// <param name="UnkToken">Stands for tokens missing from the vocabulary (<c>&lt;|endoftext|&gt;</c>).</param>
/// <param name="PadToken">Padding: <c>!</c> for SD 2.x, <c>&lt;|endoftext|&gt;</c> for SD 1.x.</param>
/// <param name="MaxLength">tokenizer_config.json's <c>model_max_length</c>, 77 when absent or unusable.</param>
/// <param name="AddedTokens">Tokens the text is split on before BPE (transformers' added tokens), with fixed ids when the files give them.</param>
public sealed record ClipTokenizerConfig(
    string BosToken,
    string EosToken,
    string UnkToken,
    string PadToken,
    int MaxLength,
    IReadOnlyDictionary<string, int?> AddedTokens)
{
    public const string StartOfText = "<|startoftext|>";
    public const string EndOfText = "<|endoftext|>";
    public const int DefaultMaxLength = 77;

    // Above this model_max_length is transformers' "no limit" sentinel (1e30) rather than a CLIP text length.
    private const int LargestUsableMaxLength = 1 << 16;

    /// <summary>CLIPTokenizer's constructor defaults: every special token but BOS is <c>&lt;|endoftext|&gt;</c>.</summary>
    public static ClipTokenizerConfig Default(string padToken = EndOfText, int maxLength = DefaultMaxLength) =>
        Create(StartOfText, EndOfText, EndOfText, padToken, maxLength, [], new Dictionary<string, int?>());

    /// <summary>Reads tokenizer_config.json and special_tokens_map.json (either may be missing) the way transformers' from_pretrained combines them.</summary>
    public static ClipTokenizerConfig FromDirectory(string tokenizerDirectory)
    {
        JsonElement? config = ReadJson(Path.Combine(tokenizerDirectory, "tokenizer_config.json"));
        JsonElement? specialMap = ReadJson(Path.Combine(tokenizerDirectory, "special_tokens_map.json"));

        // special_tokens_map.json wins over tokenizer_config.json, which wins over CLIPTokenizer's defaults.
        string Token(string key, string fallback) =>
            TokenContent(specialMap, key) ?? TokenContent(config, key) ?? fallback;

        var explicitIds = new Dictionary<string, int?>(StringComparer.Ordinal);
        if (config is { } c && c.TryGetProperty("added_tokens_decoder", out JsonElement decoder) && decoder.ValueKind == JsonValueKind.Object)
        {
            foreach (JsonProperty entry in decoder.EnumerateObject())
            {
                if (int.TryParse(entry.Name, out int id) && ContentOf(entry.Value) is { } content)
                {
                    explicitIds[content] = id;
                }
            }
        }

        // Legacy folders list their added tokens in added_tokens.json ({"token": id}).
        if (ReadJson(Path.Combine(tokenizerDirectory, "added_tokens.json")) is { ValueKind: JsonValueKind.Object } legacy)
        {
            foreach (JsonProperty entry in legacy.EnumerateObject())
            {
                if (entry.Value.TryGetInt32(out int id))
                {
                    explicitIds.TryAdd(entry.Name, id);
                }
            }
        }

        var additional = new List<string>();
        foreach (JsonElement? source in new[] { config, specialMap })
        {
            if (source is { } s && s.TryGetProperty("additional_special_tokens", out JsonElement list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement item in list.EnumerateArray())
                {
                    if (ContentOf(item) is { } content)
                    {
                        additional.Add(content);
                    }
                }
            }
        }

        int maxLength = DefaultMaxLength;
        if (config is { } cfg && cfg.TryGetProperty("model_max_length", out JsonElement max) && max.ValueKind == JsonValueKind.Number
            && max.TryGetDouble(out double value) && value >= 2 && value <= LargestUsableMaxLength)
        {
            maxLength = (int)value;
        }

        return Create(Token("bos_token", StartOfText), Token("eos_token", EndOfText), Token("unk_token", EndOfText),
            Token("pad_token", EndOfText), maxLength, additional, explicitIds);
    }

    private static ClipTokenizerConfig Create(string bos, string eos, string unk, string pad, int maxLength,
        IEnumerable<string> additional, Dictionary<string, int?> explicitIds)
    {
        if (maxLength < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "model_max_length must leave room for BOS and EOS.");
        }

        // PreTrainedTokenizer.__init__ adds every special token as an added token (id from the vocabulary when present).
        var added = new Dictionary<string, int?>(explicitIds, StringComparer.Ordinal);
        foreach (string token in new[] { bos, eos, unk, pad }.Concat(additional))
        {
            added.TryAdd(token, null);
        }

        return new ClipTokenizerConfig(bos, eos, unk, pad, maxLength, added);
    }

    private static JsonElement? ReadJson(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using JsonDocument document = Models.PythonJson.Parse(File.ReadAllText(path));
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Tokenizer file '{path}' is not valid JSON: {e.Message}", e);
        }
    }

    private static string? TokenContent(JsonElement? source, string key) =>
        source is { ValueKind: JsonValueKind.Object } s && s.TryGetProperty(key, out JsonElement value) ? ContentOf(value) : null;

    // A token is written either as a string or as an AddedToken object {"content": ..., "lstrip": ...}.
    private static string? ContentOf(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Object when value.TryGetProperty("content", out JsonElement content) && content.ValueKind == JsonValueKind.String
            => content.GetString(),
        _ => null,
    };
}
