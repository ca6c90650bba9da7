using StableDiffusion.Core.Text;

namespace StableDiffusion.Core.Tests.Text;

/// <summary>
/// A hand-made vocabulary of a dozen tokens in a temp folder: the ids, merges, special tokens and length come from
/// the files, nothing is hard-coded to CLIP's 49 408 entries. Expected ids follow by hand from the files below.
/// </summary>
public sealed class ClipTokenizerGeneratedVocabularyTests : IDisposable
{
    private const string Vocabulary = """
        {"<|startoftext|>": 10, "<|endoftext|>": 11, "!": 12, "h": 20, "e": 21, "l": 22, "o": 23, "o</w>": 24,
         "he": 30, "ll": 31, "hell": 32, "hello</w>": 33, "lo</w>": 34, "!</w>": 40}
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("clip-tokenizer-test-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private ClipTokenizer Create(string merges, int maxLength = 8)
    {
        File.WriteAllText(Path.Combine(_directory, "vocab.json"), Vocabulary);
        File.WriteAllText(Path.Combine(_directory, "merges.txt"), "#version: 0.2\n" + merges + "\n");
        File.WriteAllText(Path.Combine(_directory, "special_tokens_map.json"),
            $$"""{"bos_token": {"content": "<|startoftext|>"}, "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>", "pad_token": "!"}""");
        File.WriteAllText(Path.Combine(_directory, "tokenizer_config.json"),
            "{\"model_max_length\": " + maxLength + """, "added_tokens_decoder": {"12": {"content": "!", "special": true}}}""");
        return ClipTokenizer.FromDirectory(_directory);
    }

    [Fact]
    public void Merges_are_applied_lowest_rank_first_until_none_applies()
    {
        // h e l l o</w> -> (h e) he l l o</w> -> (l l) he ll o</w> -> (he ll) hell o</w> -> (hell o</w>) hello</w>.
        ClipTokenizer tokenizer = Create("h e\nl l\nhe ll\nhell o</w>");

        Assert.Equal([33], tokenizer.EncodeTokens("Hello"));
    }

    [Fact]
    public void Merge_order_comes_from_the_file()
    {
        // With "l o</w>" ranked first: he l lo</w>, and "l l" no longer has a pair to merge.
        ClipTokenizer tokenizer = Create("l o</w>\nh e\nl l\nhe ll\nhell o</w>");

        Assert.Equal([30, 22, 34], tokenizer.EncodeTokens("hello"));
    }

    [Fact]
    public void Special_ids_and_length_are_read_from_the_files()
    {
        ClipTokenizer tokenizer = Create("h e");

        Assert.Equal((10, 11, 12, 8), (tokenizer.BosId, tokenizer.EosId, tokenizer.PadId, tokenizer.MaxLength));
    }

    [Fact]
    public void Added_pad_token_is_split_out_before_bpe()
    {
        // "!" is listed in added_tokens_decoder with id 12; "!</w>" (40) is never reached.
        ClipTokenizer tokenizer = Create("h e\nl l\nhe ll\nhell o</w>");

        Assert.Equal([33, 12, 12], tokenizer.EncodeTokens("hello!!"));
    }

    [Fact]
    public void Symbols_missing_from_the_vocabulary_become_the_unknown_token()
    {
        // "x</w>" is not in the vocabulary: unk is <|endoftext|>, id 11 here.
        ClipTokenizer tokenizer = Create("h e");

        Assert.Equal([11], tokenizer.EncodeTokens("x"));
    }

    [Fact]
    public void Truncates_to_model_max_length_keeping_eos_last_and_pads_with_the_pad_id()
    {
        ClipTokenizer tokenizer = Create("h e\nl l\nhe ll\nhell o</w>");

        TokenizedPrompt longPrompt = tokenizer.Encode(string.Join(' ', Enumerable.Repeat("hello", 10)));
        TokenizedPrompt shortPrompt = tokenizer.Encode("hello");

        Assert.Equal([10, 33, 33, 33, 33, 33, 33, 11], longPrompt.Ids);
        Assert.Equal((6, 4), (longPrompt.TokenCount, longPrompt.DroppedTokens));
        Assert.Equal([10, 33, 11, 12, 12, 12, 12, 12], shortPrompt.Ids);
        Assert.Equal((1, 0), (shortPrompt.TokenCount, shortPrompt.DroppedTokens));
    }

    [Fact]
    public void From_files_without_config_uses_clip_defaults()
    {
        Create("h e\nl l\nhe ll\nhell o</w>");

        ClipTokenizer tokenizer = ClipTokenizer.FromFiles(Path.Combine(_directory, "vocab.json"), Path.Combine(_directory, "merges.txt"));

        // Pad is <|endoftext|> (11) and "!" is an ordinary symbol ("!</w>" = 40), as CLIPTokenizer(vocab, merges).
        Assert.Equal((11, 77), (tokenizer.PadId, tokenizer.MaxLength));
        Assert.Equal([33, 40], tokenizer.EncodeTokens("hello!"));
    }

    [Fact]
    public void Missing_vocabulary_file_is_named_in_the_error()
    {
        Create("h e");
        File.Delete(Path.Combine(_directory, "vocab.json"));

        FileNotFoundException error = Assert.Throws<FileNotFoundException>(() => ClipTokenizer.FromDirectory(_directory));

        Assert.Contains("vocab.json", error.Message);
    }
}
