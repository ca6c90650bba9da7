namespace StableDiffusion.Synthetic.Networks;

/// <summary>Shape of an AutoencoderKL (both halves).</summary>
/// <param name="BlockOutChannels">Encoder block widths; the decoder uses them reversed. Four entries → factor 8, three → factor 4.</param>
/// <param name="ResnetsPerDownBlock">diffusers' <c>layers_per_block</c>; 0 in the tiny presets, where the resampling convs change the width instead.</param>
/// <param name="ResnetsPerUpBlock"><c>layers_per_block + 1</c> in diffusers; 0 in the tiny presets.</param>
/// <param name="EncoderOutputsParameters">Encoder returns <c>latent_parameters</c> (mean, log-variance) rather than <c>latent_sample</c>.</param>
internal sealed record VaeSpec(
    int[] BlockOutChannels,
    int ResnetsPerDownBlock,
    int ResnetsPerUpBlock,
    bool MidAttention,
    int NormGroups,
    float ScalingFactor,
    bool EncoderOutputsParameters)
{
    public const int LatentChannels = 4;
    public const float Epsilon = 1e-6f;

    /// <summary>Pixels per latent along each axis: 2^(blocks − 1).</summary>
    public int LatentFactor => 1 << (BlockOutChannels.Length - 1);
}
