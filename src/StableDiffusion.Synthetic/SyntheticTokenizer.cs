using System.Text.Json.Nodes;

namespace StableDiffusion.Synthetic;

/// <summary>How a synthetic tokenizer folder is laid out.</summary>
/// <param name="PadWithEos">SD 1 pads with <c>&lt;|endoftext|&gt;</c>; SD 2 pads with <c>!</c> (id 0).</param>
/// <param name="StartOfTextId">Id of <c>&lt;|startoftext|&gt;</c> (EOS follows it); null = right after the generated vocabulary.</param>
internal sealed record TokenizerSpec(bool PadWithEos, int? StartOfTextId = null);

/// <summary>
/// A small CLIP-style byte-level BPE tokenizer folder: the 256 byte symbols in GPT-2/CLIP <c>bytes_to_unicode</c> order
/// (so <c>!</c> is id 0, as in CLIP), the same 256 with <c>&lt;/w&gt;</c>, merges learned from a built-in English word list,
/// then <c>&lt;|startoftext|&gt;</c> and <c>&lt;|endoftext|&gt;</c> as the two last ids — EOS must be the largest id because
/// the text encoder pools at argmax(input_ids), as CLIP does.
/// </summary>
internal static class SyntheticTokenizer
{
    public const string StartOfText = "<|startoftext|>";
    public const string EndOfText = "<|endoftext|>";
    public const int MaxLength = 77;

    /// <summary>Words typical of prompts; every one of them ends up a single token.</summary>
    private static readonly string[] Words =
    [
        "a", "an", "the", "of", "and", "in", "on", "with", "by", "at", "from", "to", "for", "under", "over", "into",
        "photograph", "photo", "picture", "painting", "drawing", "illustration", "portrait", "landscape", "sketch", "render",
        "astronaut", "riding", "horse", "cat", "dog", "bird", "fish", "dragon", "robot", "castle", "city", "forest",
        "mountain", "mountains", "river", "lake", "ocean", "sea", "beach", "sky", "sun", "sunset", "sunrise", "moon", "star",
        "stars", "night", "day", "light", "dark", "cloud", "clouds", "rain", "snow", "winter", "summer", "spring", "autumn",
        "tree", "trees", "flower", "flowers", "garden", "house", "street", "road", "car", "ship", "boat", "train", "space",
        "planet", "mars", "earth", "man", "woman", "girl", "boy", "child", "people", "face", "eyes", "hair", "hat", "dress",
        "red", "blue", "green", "yellow", "black", "white", "golden", "silver", "purple", "orange", "pink", "colorful",
        "beautiful", "cute", "old", "new", "big", "small", "tall", "happy", "sad", "ancient", "futuristic", "magic",
        "highly", "detailed", "high", "quality", "resolution", "sharp", "focus", "realistic", "photorealistic", "cinematic",
        "lighting", "style", "art", "artstation", "trending", "digital", "oil", "canvas", "watercolor", "studio", "award",
        "winning", "masterpiece", "best", "blurry", "ugly", "low", "bad", "anatomy", "hands", "cartoon", "anime", "fantasy",
        "standing", "sitting", "walking", "flying", "running", "playing", "reading", "book", "table", "chair", "window",
        "room", "wall", "door", "water", "fire", "ice", "stone", "wood", "glass", "metal", "gold", "view", "close", "up",
    ];

    /// <summary>GPT-2/CLIP <c>bytes_to_unicode</c>: printable Latin-1 bytes map to themselves, the rest to U+0100 onwards, in this order.</summary>
    public static IReadOnlyList<string> ByteSymbols()
    {
        var printable = new List<int>();
        for (int b = '!'; b <= '~'; b++) printable.Add(b);
        for (int b = '¡'; b <= '¬'; b++) printable.Add(b);
        for (int b = '®'; b <= 'ÿ'; b++) printable.Add(b);
        var symbols = new List<string>(256);
        foreach (int b in printable)
        {
            symbols.Add(((char)b).ToString());
        }
        int next = 0;
        for (int b = 0; b < 256; b++)
        {
            if (!printable.Contains(b))
            {
                symbols.Add(((char)(256 + next++)).ToString());
            }
        }
        return symbols;
    }

    /// <summary>Merges learned greedily from <see cref="Words"/> (most frequent pair first, ties broken by ordinal order).</summary>
    public static IReadOnlyList<(string Left, string Right)> LearnMerges()
    {
        // CLIP's BPE marks the last symbol of a word with </w>.
        var words = new List<List<string>>();
        foreach (string word in Words.Distinct(StringComparer.Ordinal))
        {
            var symbols = word.Select(c => c.ToString()).ToList();
            symbols[^1] += "</w>";
            words.Add(symbols);
        }

        var merges = new List<(string, string)>();
        while (true)
        {
            var counts = new Dictionary<(string, string), int>();
            foreach (List<string> symbols in words)
            {
                for (int i = 0; i + 1 < symbols.Count; i++)
                {
                    var pair = (symbols[i], symbols[i + 1]);
                    counts[pair] = counts.GetValueOrDefault(pair) + 1;
                }
            }
            if (counts.Count == 0)
            {
                return merges;
            }
            (string Left, string Right) best = counts
                .OrderByDescending(entry => entry.Value)
                .ThenBy(entry => entry.Key.Item1, StringComparer.Ordinal)
                .ThenBy(entry => entry.Key.Item2, StringComparer.Ordinal)
                .First().Key;
            merges.Add(best);
            foreach (List<string> symbols in words)
            {
                for (int i = 0; i + 1 < symbols.Count; i++)
                {
                    if (symbols[i] == best.Left && symbols[i + 1] == best.Right)
                    {
                        symbols[i] = best.Left + best.Right;
                        symbols.RemoveAt(i + 1);
                    }
                }
            }
        }
    }

    /// <summary>Writes vocab.json, merges.txt, special_tokens_map.json and tokenizer_config.json; returns the vocabulary size (EOS id + 1).</summary>
    public static int Write(string directory, TokenizerSpec spec)
    {
        Directory.CreateDirectory(directory);
        IReadOnlyList<string> bytes = ByteSymbols();
        IReadOnlyList<(string Left, string Right)> merges = LearnMerges();

        var vocabulary = new List<string>(bytes);
        vocabulary.AddRange(bytes.Select(symbol => symbol + "</w>"));
        var known = new HashSet<string>(vocabulary, StringComparer.Ordinal);
        foreach ((string left, string right) in merges)
        {
            if (known.Add(left + right))
            {
                vocabulary.Add(left + right);
            }
        }
        int bos = spec.StartOfTextId ?? vocabulary.Count;
        if (bos < vocabulary.Count)
        {
            throw new InvalidOperationException($"Start-of-text id {bos} collides with the {vocabulary.Count}-token vocabulary.");
        }
        int eos = bos + 1;

        var vocab = new JsonObject();
        for (int id = 0; id < vocabulary.Count; id++)
        {
            vocab[vocabulary[id]] = id;
        }
        vocab[StartOfText] = bos;
        vocab[EndOfText] = eos;
        JsonFiles.Write(Path.Combine(directory, "vocab.json"), vocab);

        var mergeLines = new System.Text.StringBuilder("#version: 0.2\n");
        foreach ((string left, string right) in merges)
        {
            mergeLines.Append(left).Append(' ').Append(right).Append('\n');
        }
        File.WriteAllText(Path.Combine(directory, "merges.txt"), mergeLines.ToString());

        string pad = spec.PadWithEos ? EndOfText : "!";
        JsonFiles.Write(Path.Combine(directory, "special_tokens_map.json"), new JsonObject
        {
            ["bos_token"] = AddedToken(StartOfText),
            ["eos_token"] = AddedToken(EndOfText),
            ["pad_token"] = pad,
            ["unk_token"] = AddedToken(EndOfText),
        });

        var addedTokens = new JsonObject();
        if (!spec.PadWithEos)
        {
            // SD 2's tokenizer declares "!" as an added (special) token so it can pad with it.
            addedTokens["0"] = AddedTokenDecoder("!", normalized: false);
        }
        addedTokens[bos.ToString(System.Globalization.CultureInfo.InvariantCulture)] = AddedTokenDecoder(StartOfText, normalized: true);
        addedTokens[eos.ToString(System.Globalization.CultureInfo.InvariantCulture)] = AddedTokenDecoder(EndOfText, normalized: true);
        JsonFiles.Write(Path.Combine(directory, "tokenizer_config.json"), new JsonObject
        {
            ["added_tokens_decoder"] = addedTokens,
            ["bos_token"] = StartOfText,
            ["clean_up_tokenization_spaces"] = true,
            ["eos_token"] = EndOfText,
            ["errors"] = "replace",
            ["model_max_length"] = MaxLength,
            ["pad_token"] = pad,
            ["tokenizer_class"] = "CLIPTokenizer",
            ["unk_token"] = EndOfText,
        });
        return eos + 1;
    }

    private static JsonObject AddedToken(string content) => new()
    {
        ["content"] = content,
        ["lstrip"] = false,
        ["normalized"] = true,
        ["rstrip"] = false,
        ["single_word"] = false,
    };

    private static JsonObject AddedTokenDecoder(string content, bool normalized) => new()
    {
        ["content"] = content,
        ["lstrip"] = false,
        ["normalized"] = normalized,
        ["rstrip"] = false,
        ["single_word"] = false,
        ["special"] = true,
    };
}
