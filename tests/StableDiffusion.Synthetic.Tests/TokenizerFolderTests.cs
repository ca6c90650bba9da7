using System.Text.Json;

namespace StableDiffusion.Synthetic.Tests;

/// <summary>The generated tokenizer folder has a real CLIP tokenizer's layout, with a small vocabulary.</summary>
public class TokenizerFolderTests
{
    [Fact]
    public void Byte_symbols_come_first_in_clip_order_then_their_word_end_forms()
    {
        Tokens tokens = Tokens.Read(SyntheticFolders.Get("tiny"));
        // Ids from openai/clip-vit-large-patch14 vocab.json: bytes_to_unicode order, "!" first, "Ń" (byte 0xAD) last.
        Assert.Equal(0, tokens.Vocab["!"]);
        Assert.Equal(64, tokens.Vocab["a"]);
        Assert.Equal(255, tokens.Vocab["Ń"]);
        Assert.Equal(256, tokens.Vocab["!</w>"]);
        Assert.Equal(320, tokens.Vocab["a</w>"]);
        Assert.Equal(511, tokens.Vocab["Ń</w>"]);
        Assert.Equal(13, tokens.Vocab["."]);
        Assert.Equal(187, tokens.Vocab["ÿ"]);
        Assert.Equal(220, tokens.Vocab["Ġ"]); // the space byte, remapped to U+0120
    }

    [Fact]
    public void Specials_are_the_two_last_ids_so_end_of_text_is_the_largest()
    {
        Tokens tokens = Tokens.Read(SyntheticFolders.Get("tiny"));
        int largest = tokens.Vocab.Values.Max();
        Assert.Equal(largest, tokens.Eos);
        Assert.Equal(largest - 1, tokens.Bos);
        Assert.Equal(tokens.Vocab.Count, largest + 1);
        Assert.InRange(tokens.Vocab.Count, 512 + 200, 2000);
    }

    [Fact]
    public void Sd2_style_pads_with_exclamation_mark_and_sd1_style_with_end_of_text()
    {
        Tokens sd2 = Tokens.Read(SyntheticFolders.Get("tiny"));
        Tokens sd1 = Tokens.Read(SyntheticFolders.Get("tiny-sd1"));
        Assert.Equal(0, sd2.Pad);
        Assert.Equal(sd1.Eos, sd1.Pad);
    }

    [Fact]
    public void Every_merge_joins_known_symbols_into_a_known_token()
    {
        string directory = Path.Combine(SyntheticFolders.Get("tiny"), "tokenizer");
        Tokens tokens = Tokens.Read(SyntheticFolders.Get("tiny"));
        string[] lines = File.ReadAllText(Path.Combine(directory, "merges.txt")).TrimEnd('\n').Split('\n');
        Assert.Equal("#version: 0.2", lines[0]);
        Assert.InRange(lines.Length - 1, 200, 1000);
        foreach (string line in lines.Skip(1))
        {
            string[] parts = line.Split(' ');
            Assert.Equal(2, parts.Length);
            Assert.Contains(parts[0], tokens.Vocab.Keys);
            Assert.Contains(parts[1], tokens.Vocab.Keys);
            Assert.Contains(parts[0] + parts[1], tokens.Vocab.Keys);
        }
        // The prompt words of the tokenizer reference sample each end up one token.
        foreach (string word in new[] { "a", "photograph", "of", "an", "astronaut", "riding", "horse" })
        {
            Assert.Contains(word + "</w>", tokens.Vocab.Keys);
        }
    }

    [Fact]
    public void Config_files_have_the_clip_tokenizer_keys()
    {
        string directory = Path.Combine(SyntheticFolders.Get("tiny"), "tokenizer");
        using JsonDocument config = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "tokenizer_config.json")));
        JsonElement root = config.RootElement;
        Assert.Equal(77, root.GetProperty("model_max_length").GetInt32());
        Assert.Equal("CLIPTokenizer", root.GetProperty("tokenizer_class").GetString());
        Assert.Equal("!", root.GetProperty("pad_token").GetString());
        Assert.Equal("<|startoftext|>", root.GetProperty("bos_token").GetString());
        Assert.Equal("<|endoftext|>", root.GetProperty("eos_token").GetString());
        Assert.Equal("!", root.GetProperty("added_tokens_decoder").GetProperty("0").GetProperty("content").GetString());

        using JsonDocument map = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "special_tokens_map.json")));
        Assert.Equal("<|startoftext|>", map.RootElement.GetProperty("bos_token").GetProperty("content").GetString());
        Assert.Equal("<|endoftext|>", map.RootElement.GetProperty("eos_token").GetProperty("content").GetString());
        Assert.Equal("<|endoftext|>", map.RootElement.GetProperty("unk_token").GetProperty("content").GetString());
        Assert.Equal("!", map.RootElement.GetProperty("pad_token").GetString());
    }

    [Fact]
    public void Text_encoder_embedding_covers_every_token_id()
    {
        string folder = SyntheticFolders.Get("tiny");
        Tokens tokens = Tokens.Read(folder);
        using JsonDocument config = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "text_encoder", "config.json")));
        Assert.Equal(tokens.Eos + 1, config.RootElement.GetProperty("vocab_size").GetInt32());
        Assert.Equal(tokens.Eos, config.RootElement.GetProperty("eos_token_id").GetInt32());
    }
}
