using DataType = Onnx.TensorProto.Types.DataType;

namespace StableDiffusion.Synthetic.Networks;

/// <summary>How the exporter shaped the UNet's <c>timestep</c> input.</summary>
internal enum TimestepShape
{
    /// <summary>Rank-0 scalar (optimum ≥ 1.24).</summary>
    Scalar,
    /// <summary>[1].</summary>
    One,
    /// <summary>[batch] (diffusers' conversion script, older optimum).</summary>
    Batch,
}

/// <summary>Shape of a UNet2DConditionModel.</summary>
/// <param name="InChannels">4; 9 for inpainting, 5 for depth, 7 for the x4 upscaler.</param>
/// <param name="DownAttention">Whether each down block (and the mirrored up block) has transformer blocks.</param>
/// <param name="AttentionHeads">Heads per down block (diffusers' misnamed <c>attention_head_dim</c>).</param>
/// <param name="Int64Timestep">timestep is int64; otherwise float (float16 in fp16 models).</param>
/// <param name="ClassLabels">The x4 upscaler's noise-level input <c>class_labels</c> (int64 [batch], embedded by a 1000-row table).</param>
internal sealed record UNetSpec(
    int InChannels,
    int[] BlockOutChannels,
    bool[] DownAttention,
    int[] AttentionHeads,
    int LayersPerBlock,
    int CrossAttentionDim,
    int NormGroups,
    bool LinearProjection,
    TimestepShape TimestepShape,
    bool Int64Timestep,
    bool ClassLabels = false)
{
    public const int OutChannels = 4;
}

/// <summary>diffusers' UNet2DConditionModel: conv_in, down blocks with skips, mid block, up blocks with skip concats, conv_out.</summary>
internal static class UNetGraph
{
    private const float Epsilon = 1e-5f;

    public static void Build(GraphBuilder b, UNetSpec spec)
    {
        string sample = b.FloatInput("sample", "batch", spec.InChannels, "height", "width");
        object[] timestepDims = spec.TimestepShape switch
        {
            TimestepShape.Scalar => [],
            TimestepShape.One => [1],
            _ => ["batch"],
        };
        string timestep = b.Input("timestep", spec.Int64Timestep ? DataType.Int64 : b.FloatIo, timestepDims);
        string context = b.FloatInput("encoder_hidden_states", "batch", TextEncoderGraph.SequenceLength, spec.CrossAttentionDim);
        string? classLabels = spec.ClassLabels ? b.Input("class_labels", DataType.Int64, "batch") : null;

        int[] channels = spec.BlockOutChannels;
        int blocks = channels.Length;
        int groups = spec.NormGroups;
        int timeDim = 4 * channels[0];

        // Whatever the timestep's rank and type, the embedding sees float32 [T] (T = 1 or batch) and broadcasts over the batch.
        string floatTimestep = spec.Int64Timestep || b.Fp16 ? b.Cast(timestep, DataType.Float) : timestep;
        string embedding = b.TimestepEmbedding(b.Reshape(floatTimestep, -1), channels[0], timeDim);
        if (classLabels is not null)
        {
            string table = b.Weight("class_embedding.weight", [1000, timeDim], 1f);
            embedding = b.Add(embedding, b.Op("Gather", [table, classLabels], ("axis", 0L)));
        }
        string activeEmbedding = b.SiLU(embedding);

        string x = b.Conv(sample, "conv_in", spec.InChannels, channels[0], 3);
        var skips = new Stack<(string Value, int Channels)>();
        skips.Push((x, channels[0]));
        int current = channels[0];

        for (int i = 0; i < blocks; i++)
        {
            using var scope = b.Scope($"down_blocks.{i}");
            for (int layer = 0; layer < spec.LayersPerBlock; layer++)
            {
                x = b.ResnetBlock(x, $"resnets.{layer}", current, channels[i], groups, Epsilon, activeEmbedding, timeDim);
                current = channels[i];
                if (spec.DownAttention[i])
                {
                    x = b.SpatialTransformer(x, $"attentions.{layer}", current, spec.AttentionHeads[i], groups, context, spec.CrossAttentionDim, spec.LinearProjection);
                }
                skips.Push((x, current));
            }
            if (i < blocks - 1)
            {
                x = b.Conv(x, "downsamplers.0.conv", current, current, 3, stride: 2);
                skips.Push((x, current));
            }
        }

        using (b.Scope("mid_block"))
        {
            x = b.ResnetBlock(x, "resnets.0", current, current, groups, Epsilon, activeEmbedding, timeDim);
            x = b.SpatialTransformer(x, "attentions.0", current, spec.AttentionHeads[^1], groups, context, spec.CrossAttentionDim, spec.LinearProjection);
            x = b.ResnetBlock(x, "resnets.1", current, current, groups, Epsilon, activeEmbedding, timeDim);
        }

        for (int i = 0; i < blocks; i++)
        {
            int level = blocks - 1 - i;
            using var scope = b.Scope($"up_blocks.{i}");
            for (int layer = 0; layer <= spec.LayersPerBlock; layer++)
            {
                (string skip, int skipChannels) = skips.Pop();
                x = b.Concat(1, x, skip);
                x = b.ResnetBlock(x, $"resnets.{layer}", current + skipChannels, channels[level], groups, Epsilon, activeEmbedding, timeDim);
                current = channels[level];
                if (spec.DownAttention[level])
                {
                    x = b.SpatialTransformer(x, $"attentions.{layer}", current, spec.AttentionHeads[level], groups, context, spec.CrossAttentionDim, spec.LinearProjection);
                }
            }
            if (i < blocks - 1)
            {
                // Upsample to the next skip's size rather than ×2, so latents whose size is not a multiple of 2^levels still work.
                x = b.Conv(b.UpsampleLike(x, skips.Peek().Value), "upsamplers.0.conv", current, current, 3);
            }
        }

        x = b.Conv(b.SiLU(b.GroupNorm(x, "conv_norm_out", current, groups, Epsilon)), "conv_out", current, UNetSpec.OutChannels, 3);
        b.FloatOutput(x, "out_sample", "batch", UNetSpec.OutChannels, "height", "width");
    }
}
