using StableDiffusion.Core.Text;

namespace StableDiffusion.Core.Tests.Text;

/// <summary>
/// Behaviours of the real CLIP vocabulary not covered by the reference file. Expected ids come from
/// reference/clip_tokenizer_reference.py (an independent Python re-implementation of transformers' slow
/// CLIPTokenizer without ftfy, which reproduces every case of tokenizer-sample.json), run on /work/shared/clip-tokenizer:
/// <c>python3 reference/clip_tokenizer_reference.py [--pad '&lt;|endoftext|&gt;'] "prompt"</c>.
/// </summary>
public sealed class ClipTokenizerPinnedTests
{
    private const int Bos = 49406;
    private const int Eos = 49407;

    [ClipVocabularyFact]
    public void Sd2_turns_every_exclamation_mark_into_pad_id_0_and_keeps_other_punctuation_in_runs()
    {
        // "hello</w>" ",</w>" "world</w>" "...</w>" "what</w>" "?</w>" then "!" split off as the added pad token.
        int[] ids = ClipTestData.Sd2().EncodeTokens("hello, world... what?!");

        Assert.Equal([3306, 267, 1002, 678, 768, 286, 0], ids);
    }

    [ClipVocabularyFact]
    public void Sd1_keeps_exclamation_mark_inside_the_punctuation_run()
    {
        // "?!</w>" is one pre-token and one vocabulary entry (2835) when "!" is not an added token.
        int[] ids = ClipTestData.Sd1().EncodeTokens("hello, world... what?!");

        Assert.Equal([3306, 267, 1002, 678, 768, 2835], ids);
    }

    [ClipVocabularyFact]
    public void Digits_are_split_one_by_one()
    {
        // 1 9 2 0 x 1 0 8 0 at 6 0 fps: [\p{N}] has no quantifier in CLIP's regex.
        int[] ids = ClipTestData.Sd2().EncodeTokens("1920x1080 at 60fps");

        Assert.Equal([272, 280, 273, 271, 343, 272, 271, 279, 271, 536, 277, 271, 25300], ids);
    }

    [ClipVocabularyFact]
    public void Contractions_split_off_their_apostrophe_suffix()
    {
        // it 's a dog , don 't worry
        int[] ids = ClipTestData.Sd2().EncodeTokens("it's a dog, don't worry");

        Assert.Equal([585, 568, 320, 1929, 267, 847, 713, 7534], ids);
    }

    [ClipVocabularyFact]
    public void Accents_are_kept_not_stripped()
    {
        // strip_accents=False: "café naïve" is caf é</w> na ïve</w>; the unaccented "cafe naive" would be 4979, 43362.
        int[] ids = ClipTestData.Sd2().EncodeTokens("café naïve");

        Assert.Equal([15304, 1097, 35689, 563], ids);
    }

    [ClipVocabularyFact]
    public void Decomposed_accents_are_composed_by_nfc_first()
    {
        // "cafe" + U+0301 and "nai" + U+0308 + "ve" normalize to the precomposed prompt above; without NFC the
        // reference gives 4979, 136, 479, 10692, 136, 486, 563.
        int[] ids = ClipTestData.Sd2().EncodeTokens("cafe\u0301 nai\u0308ve");

        Assert.Equal([15304, 1097, 35689, 563], ids);
    }

    [ClipVocabularyFact]
    public void Emoji_are_byte_level_encoded_and_zero_width_joiner_is_dropped()
    {
        // 👩 ZWJ 🚀: the joiner (category Cf) is removed by the clean-up, the emoji stay; ❤ + VS16 is one pre-token.
        int[] ids = ClipTestData.Sd2().EncodeTokens("👩‍🚀 astronaut ❤️");

        Assert.Equal([18800, 13542, 18376, 1752], ids);
    }

    [ClipVocabularyFact]
    public void Cjk_ideographs_get_spaces_but_kana_and_hangul_do_not()
    {
        // 東 and 京 become separate words; タワー and 고양이 stay whole letter runs and fall back to byte pieces.
        int[] ids = ClipTestData.Sd2().EncodeTokens("東京タワー 고양이");

        Assert.Equal([27667, 365, 21078, 361, 34941, 2429, 107, 30391, 36216, 254, 31625, 239, 34746], ids);
    }

    [ClipVocabularyFact]
    public void Cjk_compatibility_ideograph_is_normalized_to_its_unified_form()
    {
        // U+F900 has the NFC singleton decomposition U+8C48; the ids are those of 豈 (without NFC: 171, 97, 478).
        ClipTokenizer tokenizer = ClipTestData.Sd2();

        Assert.Equal([164, 109, 486], tokenizer.EncodeTokens("\uF900"));
        Assert.Equal(tokenizer.EncodeTokens("\u8C48"), tokenizer.EncodeTokens("\uF900"));
    }

    [ClipVocabularyFact]
    public void Repeated_spaces_newlines_and_tabs_collapse()
    {
        ClipTokenizer tokenizer = ClipTestData.Sd2();

        int[] messy = tokenizer.EncodeTokens("a  photo\n\nof\t\ta   cat \r\n");

        Assert.Equal([320, 1125, 539, 320, 2368], messy);
        Assert.Equal(tokenizer.EncodeTokens("a photo of a cat"), messy);
    }

    [ClipVocabularyFact]
    public void Html_entities_stay_literal_text()
    {
        // No ftfy, so nothing unescapes "&amp;": tom & amp ; jerry.
        int[] ids = ClipTestData.Sd2().EncodeTokens("tom &amp; jerry");

        Assert.Equal([2435, 261, 6259, 282, 9164], ids);
    }

    [ClipVocabularyFact]
    public void Literal_end_of_text_in_a_prompt_is_the_special_token()
    {
        // Split out as an added token before the clean-up.
        int[] ids = ClipTestData.Sd2().EncodeTokens("a <|endoftext|> b");

        Assert.Equal([320, Eos, 321], ids);
    }

    [ClipVocabularyFact]
    public void Differently_cased_end_of_text_also_becomes_the_special_token()
    {
        // Not an added-token match (case-sensitive), but lowercased to "<|endoftext|>", matched by the regex's first
        // alternatives and returned unchanged by the BPE cache CLIPTokenizer seeds with it.
        int[] ids = ClipTestData.Sd2().EncodeTokens("a <|EndOfText|> b");

        Assert.Equal([320, Eos, 321], ids);
    }

    [ClipVocabularyFact]
    public void Capital_sigma_lowercases_to_final_sigma_at_word_end_as_python_does()
    {
        // Python "ΟΔΟΣ".lower() == "οδος": the last letter is ς (UTF-8 CF 82 -> 139, 480), not σ (139, 481).
        int[] ids = ClipTestData.Sd2().EncodeTokens("ΟΔΟΣ");

        Assert.Equal([138, 123, 138, 112, 138, 123, 139, 480], ids);
    }

    [ClipVocabularyFact]
    public void Dotted_capital_i_lowercases_to_i_with_combining_dot_as_python_does()
    {
        int[] ids = ClipTestData.Sd2().EncodeTokens("İstanbul");

        Assert.Equal([328, 16384, 11231], ids);
    }

    [ClipVocabularyFact]
    public void Letters_and_digits_outside_the_bmp_follow_their_unicode_category()
    {
        // 𝐀𝐁𝐂 is one letter run, 𝟏 and 𝟐 are digits taken one at a time.
        int[] ids = ClipTestData.Sd2().EncodeTokens("𝐀𝐁𝐂 𝟏𝟐");

        Assert.Equal([15889, 222, 15889, 223, 15889, 480, 6874, 253, 493, 6874, 253, 494], ids);
    }

    [ClipVocabularyFact]
    public void Empty_prompt_is_bos_eos_then_padding()
    {
        TokenizedPrompt sd2 = ClipTestData.Sd2().Encode("");
        TokenizedPrompt sd1 = ClipTestData.Sd1().Encode("");

        Assert.Equal([Bos, Eos, .. Enumerable.Repeat(0, 75)], sd2.Ids);
        Assert.Equal([Bos, .. Enumerable.Repeat(Eos, 76)], sd1.Ids);
        Assert.Equal(0, sd2.TokenCount);
        Assert.Equal(0, sd2.DroppedTokens);
    }

    [ClipVocabularyFact]
    public void Whitespace_only_prompt_encodes_like_the_empty_prompt()
    {
        ClipTokenizer tokenizer = ClipTestData.Sd2();

        Assert.Equal(tokenizer.Encode("").Ids, tokenizer.Encode(" \t\n ").Ids);
    }

    [ClipVocabularyFact]
    public void Three_hundred_word_prompt_is_truncated_to_77_ids_with_eos_last()
    {
        // "word" is one token (2653): 300 tokens, 75 fit between BOS and EOS.
        string prompt = string.Join(' ', Enumerable.Repeat("word", 300));

        TokenizedPrompt result = ClipTestData.Sd2().Encode(prompt);

        Assert.Equal(77, result.Ids.Length);
        Assert.Equal(Bos, result.Ids[0]);
        Assert.All(result.Ids[1..76], id => Assert.Equal(2653, id));
        Assert.Equal(Eos, result.Ids[76]);
        Assert.Equal(75, result.TokenCount);
        Assert.Equal(225, result.DroppedTokens);
    }

    [ClipVocabularyFact]
    public void Sd2_folder_reports_its_special_ids_and_length()
    {
        ClipTokenizer tokenizer = ClipTestData.Sd2();

        Assert.Equal((Bos, Eos, 0, 77), (tokenizer.BosId, tokenizer.EosId, tokenizer.PadId, tokenizer.MaxLength));
    }

    [ClipVocabularyFact]
    public void Sd1_style_folder_pads_with_end_of_text()
    {
        // A folder written like SD 1.x's: pad <|endoftext|> in both JSON files, no "!" in added_tokens_decoder.
        string dir = Directory.CreateTempSubdirectory("sd1-tokenizer-").FullName;
        try
        {
            File.Copy(Path.Combine(ClipTestData.TokenizerDirectory, "vocab.json"), Path.Combine(dir, "vocab.json"));
            File.Copy(Path.Combine(ClipTestData.TokenizerDirectory, "merges.txt"), Path.Combine(dir, "merges.txt"));
            File.WriteAllText(Path.Combine(dir, "special_tokens_map.json"),
                """{"bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}""");
            File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"),
                """{"model_max_length": 77, "pad_token": "<|endoftext|>", "added_tokens_decoder": {"49406": {"content": "<|startoftext|>"}, "49407": {"content": "<|endoftext|>"}}}""");

            ClipTokenizer sd1 = ClipTokenizer.FromDirectory(dir);

            Assert.Equal(49407, sd1.PadId);
            Assert.Equal([Bos, 256, 748, 995, Eos, Eos], sd1.Encode("! !! !!!").Ids[..6]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [ClipVocabularyFact]
    public void Concurrent_encoding_gives_the_same_ids_as_sequential()
    {
        ClipTokenizer tokenizer = ClipTestData.Sd2();
        string[] prompts = [.. Enumerable.Range(0, 200).Select(i => $"a photo of cat number {i}, highly detailed")];
        int[][] expected = [.. prompts.Select(p => tokenizer.Encode(p).Ids)];

        int[][] actual = new int[prompts.Length][];
        Parallel.For(0, prompts.Length, i => actual[i] = tokenizer.Encode(prompts[i]).Ids);

        Assert.Equal(expected, actual);
    }
}
