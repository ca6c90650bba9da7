using DataType = Onnx.TensorProto.Types.DataType;

namespace StableDiffusion.Synthetic.Networks;

/// <summary>Shape of a CLIP text encoder (transformers <c>CLIPTextModel</c>).</summary>
/// <param name="VocabSize">Rows of the token embedding: the tokenizer's largest id + 1.</param>
/// <param name="Int64Ids">input_ids is int64 (SD 1 exports) rather than int32 (SD 2 exports).</param>
/// <param name="QuickGelu">CLIP ViT-L (SD 1) uses quick_gelu; OpenCLIP ViT-H (SD 2) uses exact gelu.</param>
internal sealed record TextEncoderSpec(int VocabSize, int Hidden, int Layers, int Heads, int Intermediate, bool Int64Ids, bool QuickGelu);

/// <summary>CLIP text encoder: token + position embeddings, pre-LN causal transformer layers, final LayerNorm, EOS pooling.</summary>
internal static class TextEncoderGraph
{
    public const int SequenceLength = 77;

    public static void Build(GraphBuilder b, TextEncoderSpec spec)
    {
        string ids = b.Input("input_ids", spec.Int64Ids ? DataType.Int64 : DataType.Int32, "batch", SequenceLength);
        int d = spec.Hidden;
        string x;
        using (b.Scope("text_model"))
        {
            using (b.Scope("embeddings"))
            {
                string tokens = b.Op("Gather", [b.Weight("token_embedding.weight", [spec.VocabSize, d], 1f), ids], ("axis", 0L));
                x = b.Add(tokens, b.Weight("position_embedding.weight", [SequenceLength, d], 0.5f));
            }

            string mask = b.Constant(CausalMask(), SequenceLength, SequenceLength);
            for (int layer = 0; layer < spec.Layers; layer++)
            {
                using var scope = b.Scope($"encoder.layers.{layer}");
                x = b.Add(x, b.Attention(b.LayerNorm(x, "layer_norm1", d), "self_attn", d, spec.Heads, qkvBias: true, mask: mask, clipNames: true));
                string h = b.Linear(b.LayerNorm(x, "layer_norm2", d), "mlp.fc1", d, spec.Intermediate);
                h = spec.QuickGelu ? b.QuickGelu(h) : b.Gelu(h);
                x = b.Add(x, b.Linear(h, "mlp.fc2", spec.Intermediate, d));
            }
            x = b.LayerNorm(x, "final_layer_norm", d);
        }
        b.FloatOutput(x, "last_hidden_state", "batch", SequenceLength, d);

        // transformers pools at argmax(input_ids) — the EOS token has the largest id — after casting the ids to int32.
        string intIds = spec.Int64Ids ? b.Cast(ids, DataType.Int32) : ids;
        string eos = b.Op("ArgMax", [intIds], ("axis", -1L), ("keepdims", 0L));
        string pooled = b.Op("GatherND", [x, b.Unsqueeze(eos, 1)], ("batch_dims", 1L));
        b.FloatOutput(pooled, "pooler_output", "batch", d);
    }

    /// <summary>Additive causal mask: a token attends to itself and earlier tokens (−1e9 stands in for CLIP's −inf).</summary>
    private static float[] CausalMask()
    {
        float[] mask = new float[SequenceLength * SequenceLength];
        for (int row = 0; row < SequenceLength; row++)
        {
            for (int column = row + 1; column < SequenceLength; column++)
            {
                mask[row * SequenceLength + column] = -1e9f;
            }
        }
        return mask;
    }
}
