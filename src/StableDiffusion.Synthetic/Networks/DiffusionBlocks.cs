namespace StableDiffusion.Synthetic.Networks;

/// <summary>The building blocks diffusers' UNet2DConditionModel and AutoencoderKL are made of, as graph fragments.</summary>
internal static class DiffusionBlocks
{
    /// <summary>
    /// Multi-head attention (diffusers <c>Attention</c>, CLIP <c>CLIPAttention</c>) on [batch, tokens, dim].
    /// Keys and values come from <paramref name="context"/> when given (cross-attention); <paramref name="mask"/> is added to the scores.
    /// </summary>
    public static string Attention(this GraphBuilder b, string x, string name, int dim, int heads,
        string? context = null, int contextDim = 0, bool qkvBias = false, string? mask = null, bool clipNames = false)
    {
        using var scope = b.Scope(name);
        int headDim = dim / heads;
        string source = context ?? x;
        int sourceDim = context is null ? dim : contextDim;
        string q = b.Linear(x, clipNames ? "q_proj" : "to_q", dim, dim, qkvBias);
        string k = b.Linear(source, clipNames ? "k_proj" : "to_k", sourceDim, dim, qkvBias);
        string v = b.Linear(source, clipNames ? "v_proj" : "to_v", sourceDim, dim, qkvBias);

        // [B, N, dim] -> [B, heads, N, headDim]; keys go straight to [B, heads, headDim, M] for the score MatMul.
        q = b.Transpose(b.Reshape(q, 0, 0, heads, headDim), 0, 2, 1, 3);
        k = b.Transpose(b.Reshape(k, 0, 0, heads, headDim), 0, 2, 3, 1);
        v = b.Transpose(b.Reshape(v, 0, 0, heads, headDim), 0, 2, 1, 3);
        string scores = b.MatMul(b.Mul(q, b.Scalar(1f / MathF.Sqrt(headDim))), k);
        if (mask is not null)
        {
            scores = b.Add(scores, mask);
        }
        string attended = b.MatMul(b.Softmax(scores), v);
        string merged = b.Reshape(b.Transpose(attended, 0, 2, 1, 3), 0, 0, dim);
        return b.Linear(merged, clipNames ? "out_proj" : "to_out.0", dim, dim);
    }

    /// <summary>diffusers <c>ResnetBlock2D</c>: GroupNorm, SiLU, conv, (+ projected time embedding), GroupNorm, SiLU, conv, residual.</summary>
    /// <param name="timeEmbedding">SiLU of the time embedding, [T, timeDim] with T = 1 or batch; null in the VAE.</param>
    public static string ResnetBlock(this GraphBuilder b, string x, string name, int inChannels, int outChannels, int groups,
        float epsilon, string? timeEmbedding = null, int timeDim = 0)
    {
        using var scope = b.Scope(name);
        string h = b.Conv(b.SiLU(b.GroupNorm(x, "norm1", inChannels, groups, epsilon)), "conv1", inChannels, outChannels, 3);
        if (timeEmbedding is not null)
        {
            // [T, C] -> [T, C, 1, 1]: broadcasts over the batch when the timestep has one element.
            string projected = b.Linear(timeEmbedding, "time_emb_proj", timeDim, outChannels);
            h = b.Add(h, b.Unsqueeze(projected, 2, 3));
        }
        h = b.Conv(b.SiLU(b.GroupNorm(h, "norm2", outChannels, groups, epsilon)), "conv2", outChannels, outChannels, 3);
        string shortcut = inChannels == outChannels ? x : b.Conv(x, "conv_shortcut", inChannels, outChannels, 1);
        return b.Add(shortcut, h);
    }

    /// <summary>
    /// diffusers <c>Transformer2DModel</c> with one <c>BasicTransformerBlock</c>: self-attention, cross-attention to the
    /// text embedding, GEGLU feed-forward, each pre-LayerNorm with a residual; projections linear (SD 2) or 1×1 conv (SD 1).
    /// </summary>
    public static string SpatialTransformer(this GraphBuilder b, string x, string name, int channels, int heads, int groups,
        string context, int contextDim, bool linearProjection)
    {
        using var scope = b.Scope(name);
        string h = b.GroupNorm(x, "norm", channels, groups, 1e-6f);
        if (!linearProjection)
        {
            h = b.Conv(h, "proj_in", channels, channels, 1);
        }
        h = b.Transpose(b.Reshape(h, 0, channels, -1), 0, 2, 1);
        if (linearProjection)
        {
            h = b.Linear(h, "proj_in", channels, channels);
        }
        using (b.Scope("transformer_blocks.0"))
        {
            h = b.Add(h, b.Attention(b.LayerNorm(h, "norm1", channels), "attn1", channels, heads));
            h = b.Add(h, b.Attention(b.LayerNorm(h, "norm2", channels), "attn2", channels, heads, context, contextDim));
            h = b.Add(h, b.GegluFeedForward(b.LayerNorm(h, "norm3", channels), "ff", channels));
        }
        if (linearProjection)
        {
            h = b.Linear(h, "proj_out", channels, channels);
        }
        h = b.ReshapeLike(b.Transpose(h, 0, 2, 1), b.Shape(x));
        if (!linearProjection)
        {
            h = b.Conv(h, "proj_out", channels, channels, 1);
        }
        return b.Add(h, x);
    }

    /// <summary>diffusers <c>FeedForward</c> with GEGLU: Linear(dim, 8·dim) split in value and gate, value·GELU(gate), Linear(4·dim, dim).</summary>
    public static string GegluFeedForward(this GraphBuilder b, string x, string name, int dim)
    {
        using var scope = b.Scope(name);
        int inner = 4 * dim;
        string projected = b.Linear(x, "net.0.proj", dim, 2 * inner);
        string[] halves = b.OpMulti("Split", [projected, b.Int64s(inner, inner)], 2, ("axis", -1L));
        return b.Linear(b.Mul(halves[0], b.Gelu(halves[1])), "net.2", inner, dim);
    }

    /// <summary>The VAE's single-head spatial self-attention (AutoencoderKL mid block), with its GroupNorm and residual.</summary>
    public static string VaeAttention(this GraphBuilder b, string x, string name, int channels, int groups)
    {
        using var scope = b.Scope(name);
        string h = b.GroupNorm(x, "group_norm", channels, groups, 1e-6f);
        h = b.Transpose(b.Reshape(h, 0, channels, -1), 0, 2, 1);
        h = b.Attention(h, "attention", channels, heads: 1, qkvBias: true);
        h = b.ReshapeLike(b.Transpose(h, 0, 2, 1), b.Shape(x));
        return b.Add(h, x);
    }

    /// <summary>
    /// Sinusoidal timestep embedding then the time MLP (diffusers <c>Timesteps(flip_sin_to_cos=True, downscale_freq_shift=0)</c>
    /// and <c>TimestepEmbedding</c>): frequencies exp(−ln(10000)·i/half), cos half first.
    /// </summary>
    /// <param name="timesteps">float32 [T].</param>
    public static string TimestepEmbedding(this GraphBuilder b, string timesteps, int channels, int timeDim)
    {
        int half = channels / 2;
        float[] frequencies = new float[half];
        for (int i = 0; i < half; i++)
        {
            frequencies[i] = (float)Math.Exp(-Math.Log(10000.0) * i / half);
        }
        string arguments = b.Mul(b.Unsqueeze(timesteps, 1), b.Constant(frequencies, 1, half));
        string embedding = b.Concat(1, b.Op("Cos", [arguments]), b.Op("Sin", [arguments]));
        using var scope = b.Scope("time_embedding");
        return b.Linear(b.SiLU(b.Linear(embedding, "linear_1", channels, timeDim)), "linear_2", timeDim, timeDim);
    }
}
