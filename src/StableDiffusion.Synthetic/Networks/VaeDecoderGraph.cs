namespace StableDiffusion.Synthetic.Networks;

/// <summary>AutoencoderKL's decoder: post_quant_conv, conv_in, mid block, up blocks with nearest ×2 upsampling, conv_out.</summary>
internal static class VaeDecoderGraph
{
    public static void Build(GraphBuilder b, VaeSpec spec)
    {
        string latents = b.FloatInput("latent_sample", "batch", VaeSpec.LatentChannels, "latent_height", "latent_width");
        int[] channels = [.. spec.BlockOutChannels.Reverse()];
        int groups = spec.NormGroups;
        string x = b.Conv(latents, "post_quant_conv", VaeSpec.LatentChannels, VaeSpec.LatentChannels, 1);
        int current = channels[0];
        using (b.Scope("decoder"))
        {
            x = b.Conv(x, "conv_in", VaeSpec.LatentChannels, current, 3);
            using (b.Scope("mid_block"))
            {
                x = b.ResnetBlock(x, "resnets.0", current, current, groups, VaeSpec.Epsilon);
                if (spec.MidAttention)
                {
                    x = b.VaeAttention(x, "attentions.0", current, groups);
                    x = b.ResnetBlock(x, "resnets.1", current, current, groups, VaeSpec.Epsilon);
                }
            }
            for (int i = 0; i < channels.Length; i++)
            {
                using var scope = b.Scope($"up_blocks.{i}");
                for (int r = 0; r < spec.ResnetsPerUpBlock; r++)
                {
                    x = b.ResnetBlock(x, $"resnets.{r}", current, channels[i], groups, VaeSpec.Epsilon);
                    current = channels[i];
                }
                if (i < channels.Length - 1)
                {
                    int next = spec.ResnetsPerUpBlock == 0 ? channels[i + 1] : current;
                    x = b.Conv(b.Upsample2x(x), "upsamplers.0.conv", current, next, 3);
                    current = next;
                }
            }
            x = b.Conv(b.SiLU(b.GroupNorm(x, "conv_norm_out", current, groups, VaeSpec.Epsilon)), "conv_out", current, 3, 3);
        }
        b.FloatOutput(x, "sample", "batch", 3, "height", "width");
    }
}
