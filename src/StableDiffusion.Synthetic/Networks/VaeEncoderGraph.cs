namespace StableDiffusion.Synthetic.Networks;

/// <summary>AutoencoderKL's encoder: conv_in, down blocks with stride-2 convs, mid block, conv_out to mean and log-variance, quant_conv.</summary>
internal static class VaeEncoderGraph
{
    public static void Build(GraphBuilder b, VaeSpec spec)
    {
        string image = b.FloatInput("sample", "batch", 3, "height", "width");
        int[] channels = spec.BlockOutChannels;
        int groups = spec.NormGroups;
        const int moments = 2 * VaeSpec.LatentChannels;
        string x;
        int current = channels[0];
        using (b.Scope("encoder"))
        {
            x = b.Conv(image, "conv_in", 3, current, 3);
            for (int i = 0; i < channels.Length; i++)
            {
                using var scope = b.Scope($"down_blocks.{i}");
                for (int r = 0; r < spec.ResnetsPerDownBlock; r++)
                {
                    x = b.ResnetBlock(x, $"resnets.{r}", current, channels[i], groups, VaeSpec.Epsilon);
                    current = channels[i];
                }
                if (i < channels.Length - 1)
                {
                    // diffusers' Downsample2D in the VAE pads (0, 1, 0, 1) — right and bottom only — then convolves with stride 2.
                    int next = spec.ResnetsPerDownBlock == 0 ? channels[i + 1] : current;
                    x = b.Conv(x, "downsamplers.0.conv", current, next, 3, stride: 2, pads: [0, 0, 1, 1]);
                    current = next;
                }
            }
            using (b.Scope("mid_block"))
            {
                x = b.ResnetBlock(x, "resnets.0", current, current, groups, VaeSpec.Epsilon);
                if (spec.MidAttention)
                {
                    x = b.VaeAttention(x, "attentions.0", current, groups);
                    x = b.ResnetBlock(x, "resnets.1", current, current, groups, VaeSpec.Epsilon);
                }
            }
            x = b.Conv(b.SiLU(b.GroupNorm(x, "conv_norm_out", current, groups, VaeSpec.Epsilon)), "conv_out", current, moments, 3);
        }
        x = b.Conv(x, "quant_conv", moments, moments, 1);
        if (spec.EncoderOutputsParameters)
        {
            b.FloatOutput(x, "latent_parameters", "batch", moments, "latent_height", "latent_width");
            return;
        }
        // Exports that return latent_sample: the distribution's mean (deterministic, unlike latent_dist.sample()).
        string mean = b.Op("Slice", [x, b.Int64s(0), b.Int64s(VaeSpec.LatentChannels), b.Int64s(1)]);
        b.FloatOutput(mean, "latent_sample", "batch", VaeSpec.LatentChannels, "latent_height", "latent_width");
    }
}
