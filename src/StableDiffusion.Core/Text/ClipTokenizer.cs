using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;

namespace StableDiffusion.Core.Text;

/// <summary>The ids of one prompt: exactly <see cref="ClipTokenizer.MaxLength"/> of them (BOS, tokens, EOS, padding).</summary>
/// <param name="Ids">BOS + tokens + EOS + padding, truncated to the model's length.</param>
/// <param name="TokenCount">Tokens of the prompt that were kept (without BOS/EOS/padding).</param>
/// <param name="DroppedTokens">Tokens of the prompt cut off by truncation.</param>
public sealed record TokenizedPrompt(int[] Ids, int TokenCount, int DroppedTokens);

/// <summary>CLIP's BPE tokenizer, id for id as Hugging Face's slow <c>CLIPTokenizer</c> without ftfy.</summary>
/// <remarks>
/// Written by hand rather than on Microsoft.ML.Tokenizers 2.0.1. Tried: its BpeTokenizer with ByteLevel = true,
/// EndOfWordSuffix "&lt;/w&gt;", CLIP's regex as a RegexPreTokenizer, LowerCaseNormalizer and "!"/BOS/EOS as special
/// tokens gives transformers' ids for only 8 of the 12 reference prompts (CJK, control characters, mojibake with
/// U+009D differ), and also differs on decomposed accents, compatibility ideographs, final sigma and letters outside
/// the BMP. What it lacks is the part of transformers that is not BPE: (1) PreTrainedTokenizer.tokenize first splits the
/// raw prompt on added tokens, and SD 2.x registers its pad token "!" as one, so every "!" becomes id 0 while "!!"
/// stays "!!&lt;/w&gt;" under SD 1.x; (2) without ftfy, CLIPTokenizer runs BERT's BasicTokenizer: control and format
/// characters dropped, spaces around CJK ideographs, NFC (which string.Normalize does not do under
/// InvariantGlobalization), Python's str.lower() (İ, final sigma); (3) CLIP's regex over code points, not UTF-16
/// units; (4) the 48 894-merge cap and truncation keeping EOS last. With all that around it the library would only
/// run the merge loop, so the pipeline lives here, each step mirroring tokenization_clip.py
/// (<see cref="ClipBasicTokenizer"/>, <see cref="ClipPreTokenizer"/>, the BPE below).
/// Thread-safe: one instance serves concurrent requests; BPE results are cached per word, bounded.
/// </remarks>
public sealed class ClipTokenizer
{
    // CLIPTokenizer reads merges.txt lines [1 : 49152 - 256 - 2 + 1]: the header is skipped and at most this many merges are used.
    private const int MaxMerges = 49152 - 256 - 2;
    private const string EndOfWord = "</w>";
    private const int CacheCapacity = 16_384;

    private static readonly string[] ByteToUnicode = BuildByteToUnicode();

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<(string First, string Second), int> _mergeRanks;
    private readonly Dictionary<string, int> _addedTokenIds;
    private readonly string[] _addedTokensLongestFirst;
    private readonly SearchValues<char> _addedTokenFirstChars;
    private readonly int _unkId;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    private ClipTokenizer(Dictionary<string, int> vocab, Dictionary<(string, string), int> mergeRanks, ClipTokenizerConfig config)
    {
        _vocab = vocab;
        _mergeRanks = mergeRanks;
        Config = config;

        // PreTrainedTokenizer._add_tokens: an added token keeps the id the files give it, else its vocabulary id,
        // else it gets the next id after the vocabulary.
        _addedTokenIds = new Dictionary<string, int>(StringComparer.Ordinal);
        int nextId = vocab.Count;
        foreach ((string token, int? explicitId) in config.AddedTokens)
        {
            if (token.Length == 0)
            {
                continue;
            }

            _addedTokenIds[token] = explicitId ?? (vocab.TryGetValue(token, out int id) ? id : nextId++);
        }

        _addedTokensLongestFirst = [.. _addedTokenIds.Keys.OrderByDescending(t => t.Length).ThenBy(t => t, StringComparer.Ordinal)];
        _addedTokenFirstChars = SearchValues.Create([.. _addedTokenIds.Keys.Select(t => t[0]).Distinct()]);

        // CLIPTokenizer._convert_token_to_id falls back to encoder[unk_token]: the vocabulary, not the added tokens.
        _unkId = vocab.TryGetValue(config.UnkToken, out int unk) ? unk
            : _addedTokenIds.TryGetValue(config.UnkToken, out unk) ? unk
            : throw new InvalidDataException($"The unknown token '{config.UnkToken}' is not in the vocabulary.");

        BosId = TokenToId(config.BosToken);
        EosId = TokenToId(config.EosToken);
        PadId = TokenToId(config.PadToken);
    }

    /// <summary>Loads vocab.json, merges.txt, special_tokens_map.json and tokenizer_config.json from a model's tokenizer/ folder.</summary>
    public static ClipTokenizer FromDirectory(string tokenizerDirectory)
    {
        if (!Directory.Exists(tokenizerDirectory))
        {
            throw new DirectoryNotFoundException($"Tokenizer folder '{tokenizerDirectory}' does not exist.");
        }

        return FromFiles(
            Path.Combine(tokenizerDirectory, "vocab.json"),
            Path.Combine(tokenizerDirectory, "merges.txt"),
            ClipTokenizerConfig.FromDirectory(tokenizerDirectory));
    }

    /// <summary>
    /// Builds a tokenizer from vocab.json and merges.txt as <c>CLIPTokenizer(vocab_file, merges_file, pad_token=...)</c>
    /// does; without <paramref name="config"/>, CLIP's defaults (pad <c>&lt;|endoftext|&gt;</c> as SD 1.x, 77 ids).
    /// </summary>
    public static ClipTokenizer FromFiles(string vocabPath, string mergesPath, ClipTokenizerConfig? config = null)
    {
        Dictionary<string, int> vocab = ReadVocabulary(vocabPath);
        Dictionary<(string, string), int> ranks = ReadMerges(mergesPath);
        return new ClipTokenizer(vocab, ranks, config ?? ClipTokenizerConfig.Default());
    }

    /// <summary>The special tokens and length this tokenizer was built with.</summary>
    public ClipTokenizerConfig Config { get; }

    public int MaxLength => Config.MaxLength;
    public int BosId { get; }
    public int EosId { get; }
    public int PadId { get; }

    /// <summary>Ids of the prompt's tokens only: no BOS, EOS, padding or truncation.</summary>
    public int[] EncodeTokens(string text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return [];
        }

        var ids = new List<int>();

        int segmentStart = 0;
        int i = 0;
        while (i < text.Length)
        {
            int candidate = text.AsSpan(i).IndexOfAny(_addedTokenFirstChars);
            if (candidate < 0)
            {
                break;
            }

            i += candidate;
            string? added = AddedTokenAt(text, i);
            if (added is null)
            {
                i++;
                continue;
            }

            AppendSegment(text[segmentStart..i], ids);
            ids.Add(_addedTokenIds[added]);
            i += added.Length;
            segmentStart = i;
        }

        AppendSegment(text[segmentStart..], ids);
        return [.. ids];
    }

    /// <summary>BOS, the prompt's tokens (truncated to <see cref="MaxLength"/> - 2), EOS, then padding: what diffusers feeds the text encoder.</summary>
    public TokenizedPrompt Encode(string text)
    {
        int[] tokens = EncodeTokens(text);
        int kept = Math.Min(tokens.Length, MaxLength - 2);

        var ids = new int[MaxLength];
        ids[0] = BosId;
        tokens.AsSpan(0, kept).CopyTo(ids.AsSpan(1));
        ids[kept + 1] = EosId;
        ids.AsSpan(kept + 2).Fill(PadId);
        return new TokenizedPrompt(ids, kept, tokens.Length - kept);
    }

    // transformers' Trie.split: the leftmost match, the longest one where several start at the same place; case-sensitive.
    private string? AddedTokenAt(string text, int index)
    {
        foreach (string token in _addedTokensLongestFirst)
        {
            if (index + token.Length <= text.Length && string.CompareOrdinal(text, index, token, 0, token.Length) == 0)
            {
                return token;
            }
        }

        return null;
    }

    private void AppendSegment(string segment, List<int> ids)
    {
        if (segment.Length == 0)
        {
            return;
        }

        foreach (string word in ClipPreTokenizer.Split(ClipBasicTokenizer.Clean(segment)))
        {
            ids.AddRange(WordIds(word));
        }
    }

    private int[] WordIds(string word)
    {
        if (_cache.TryGetValue(word, out int[]? cached))
        {
            return cached;
        }

        int[] ids;
        // CLIPTokenizer seeds its BPE cache with these two, so they map to themselves without "</w>".
        if (word is ClipTokenizerConfig.StartOfText or ClipTokenizerConfig.EndOfText)
        {
            ids = [TokenToId(word)];
        }
        else
        {
            List<string> pieces = BytePairEncode(ByteLevelEncode(word));
            ids = new int[pieces.Count];
            for (int k = 0; k < pieces.Count; k++)
            {
                ids[k] = TokenToId(pieces[k]);
            }
        }

        // Bounded: a stream of unique prompts must not grow memory without limit; common words refill quickly.
        if (_cache.Count >= CacheCapacity)
        {
            _cache.Clear();
        }

        _cache.TryAdd(word, ids);
        return ids;
    }

    // PreTrainedTokenizer._convert_token_to_id_with_added_voc: added tokens first, then the vocabulary, else unk.
    private int TokenToId(string token) =>
        _addedTokenIds.TryGetValue(token, out int added) ? added
        : _vocab.TryGetValue(token, out int id) ? id
        : _unkId;

    private static string ByteLevelEncode(string word)
    {
        int byteCount = Encoding.UTF8.GetByteCount(word);
        Span<byte> bytes = byteCount <= 256 ? stackalloc byte[byteCount] : new byte[byteCount];
        Encoding.UTF8.GetBytes(word, bytes);
        var encoded = new StringBuilder(byteCount);
        foreach (byte b in bytes)
        {
            encoded.Append(ByteToUnicode[b]);
        }

        return encoded.ToString();
    }

    // CLIPTokenizer.bpe: the last symbol carries "</w>"; repeatedly merge every occurrence (left to right) of the
    // adjacent pair with the lowest merge rank until no adjacent pair has a rank.
    private List<string> BytePairEncode(string token)
    {
        var word = new List<string>(token.Length);
        for (int k = 0; k < token.Length - 1; k++)
        {
            word.Add(token[k].ToString());
        }

        word.Add(token[^1] + EndOfWord);

        while (word.Count > 1)
        {
            int bestRank = int.MaxValue;
            (string First, string Second) best = default;
            for (int k = 0; k < word.Count - 1; k++)
            {
                if (_mergeRanks.TryGetValue((word[k], word[k + 1]), out int rank) && rank < bestRank)
                {
                    bestRank = rank;
                    best = (word[k], word[k + 1]);
                }
            }

            if (bestRank == int.MaxValue)
            {
                break;
            }

            var merged = new List<string>(word.Count);
            for (int k = 0; k < word.Count; k++)
            {
                if (k < word.Count - 1 && word[k] == best.First && word[k + 1] == best.Second)
                {
                    merged.Add(best.First + best.Second);
                    k++;
                }
                else
                {
                    merged.Add(word[k]);
                }
            }

            word = merged;
        }

        return word;
    }

    private static Dictionary<string, int> ReadVocabulary(string vocabPath)
    {
        if (!File.Exists(vocabPath))
        {
            throw new FileNotFoundException($"Tokenizer vocabulary '{vocabPath}' is missing.", vocabPath);
        }

        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, int>>(Models.PythonJson.Normalize(File.ReadAllText(vocabPath)))
                ?? throw new InvalidDataException($"Tokenizer vocabulary '{vocabPath}' is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Tokenizer vocabulary '{vocabPath}' is not a JSON object of token ids: {e.Message}", e);
        }
    }

    // Python: read().strip().split("\n")[1 : MaxMerges + 1], each line split on whitespace; a pair listed twice keeps
    // its last rank (dict(zip(...))), and malformed lines still take up a rank.
    private static Dictionary<(string, string), int> ReadMerges(string mergesPath)
    {
        if (!File.Exists(mergesPath))
        {
            throw new FileNotFoundException($"Tokenizer merges '{mergesPath}' is missing.", mergesPath);
        }

        string[] lines = File.ReadAllText(mergesPath).Trim().Split('\n');
        var ranks = new Dictionary<(string, string), int>(Math.Min(lines.Length, MaxMerges), EqualityComparer<(string, string)>.Default);
        int count = Math.Min(lines.Length - 1, MaxMerges);
        for (int rank = 0; rank < count; rank++)
        {
            string[] parts = lines[rank + 1].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2)
            {
                ranks[(parts[0], parts[1])] = rank;
            }
        }

        return ranks;
    }

    // GPT-2/CLIP bytes_to_unicode: printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100 onwards.
    private static string[] BuildByteToUnicode()
    {
        var map = new string[256];
        int next = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = ((char)(printable ? b : 256 + next++)).ToString();
        }

        return map;
    }
}
