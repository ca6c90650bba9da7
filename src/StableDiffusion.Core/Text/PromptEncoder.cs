using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using StableDiffusion.Core.Models;

namespace StableDiffusion.Core.Text;

/// <summary>Tokenizes prompts and runs the text encoder: prompt text in, <c>last_hidden_state</c> [77, D] out.</summary>
public sealed class PromptEncoder
{
    private const string IdsInput = "input_ids";
    private const string HiddenOutput = "last_hidden_state";

    private readonly ClipTokenizer _tokenizer;
    private readonly OnnxComponent _textEncoder;
    private readonly TensorElementType _idsType;
    private readonly string _hiddenOutput;

    /// <param name="cache">Text-encoder outputs by token ids; null = no cache.</param>
    public PromptEncoder(ClipTokenizer tokenizer, OnnxComponent textEncoder, PromptEmbeddingCache? cache = null)
    {
        _tokenizer = tokenizer;
        Cache = cache ?? new PromptEmbeddingCache(0);
        _textEncoder = textEncoder;
        var ids = textEncoder.Input(IdsInput);
        if (ids.ElementType is not (TensorElementType.Int32 or TensorElementType.Int64))
        {
            throw new ModelLoadException($"text_encoder: input '{IdsInput}' must be int32 or int64, found {ids.ElementType}.");
        }

        _idsType = ids.ElementType;
        _hiddenOutput = textEncoder.HasOutput(HiddenOutput) ? HiddenOutput : textEncoder.OutputNames[0];
        var hidden = textEncoder.Output(_hiddenOutput);
        if (hidden.Rank != 3)
        {
            throw new ModelLoadException($"text_encoder: output '{_hiddenOutput}' must be [batch, {tokenizer.MaxLength}, D], found {hidden}.");
        }

        HiddenSize = hidden.FixedDimension(2) is long d ? (int)d : 0;
    }

    public ClipTokenizer Tokenizer => _tokenizer;

    /// <summary>The text-encoder outputs kept by token ids (capacity 0 = off; its counters still count lookups).</summary>
    public PromptEmbeddingCache Cache { get; }

    /// <summary>Width D of the hidden states (0 until known when the model leaves it symbolic).</summary>
    public int HiddenSize { get; private set; }

    public int SequenceLength => _tokenizer.MaxLength;

    /// <summary>Encodes one prompt into [SequenceLength, D] float32 (from the cache when its token ids were seen
    /// lately); logs when tokens were dropped by truncation.</summary>
    public float[] Encode(string prompt, string role, Action<string>? log)
    {
        var tokens = _tokenizer.Encode(prompt);
        if (tokens.DroppedTokens > 0)
        {
            log?.Invoke($"{role} truncated: {tokens.DroppedTokens} tokens dropped (CLIP reads at most {_tokenizer.MaxLength - 2} tokens)");
        }

        return Cache.GetOrAdd(tokens.Ids, () => RunEncoder(tokens.Ids));
    }

    private float[] RunEncoder(int[] tokenIds)
    {
        long[] shape = [1, tokenIds.Length];
        using OrtValue ids = _idsType == TensorElementType.Int32
            ? OrtValue.CreateTensorValueFromMemory(tokenIds, shape)
            : OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(tokenIds, i => (long)i), shape);
        using var outputs = _textEncoder.Run([IdsInput], [ids], [_hiddenOutput]);
        var hidden = outputs[0];
        var dims = hidden.GetTensorTypeAndShape().Shape;
        int width = (int)dims[2];
        HiddenSize = width;
        var result = new float[(int)dims[1] * width];
        FloatTensorBuffer.ReadValue(hidden, result);
        return result;
    }
}
