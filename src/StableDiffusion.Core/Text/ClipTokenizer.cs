namespace StableDiffusion.Core.Text;

/// <summary>The ids of one prompt: exactly <see cref="ClipTokenizer.MaxLength"/> of them (BOS, tokens, EOS, padding).</summary>
/// <param name="Ids">BOS + tokens + EOS + padding, truncated to the model's length.</param>
/// <param name="TokenCount">Tokens of the prompt that were kept (without BOS/EOS/padding).</param>
/// <param name="DroppedTokens">Tokens of the prompt cut off by truncation.</param>
public sealed record TokenizedPrompt(int[] Ids, int TokenCount, int DroppedTokens);

/// <summary>CLIP's BPE tokenizer, id for id as Hugging Face's slow <c>CLIPTokenizer</c> without ftfy.</summary>
public sealed class ClipTokenizer
{
    /// <summary>Loads vocab.json, merges.txt, special_tokens_map.json and tokenizer_config.json from a model's tokenizer/ folder.</summary>
    public static ClipTokenizer FromDirectory(string tokenizerDirectory) => throw new NotImplementedException();

    public int MaxLength => throw new NotImplementedException();
    public int BosId => throw new NotImplementedException();
    public int EosId => throw new NotImplementedException();
    public int PadId => throw new NotImplementedException();

    public TokenizedPrompt Encode(string text) => throw new NotImplementedException();
}
