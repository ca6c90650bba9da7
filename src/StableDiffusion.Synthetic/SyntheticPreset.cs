using StableDiffusion.Synthetic.Networks;

namespace StableDiffusion.Synthetic;

/// <summary>A scheduler_config.json: which diffusers class and the training schedule it carries (scaled_linear betas).</summary>
/// <param name="ClassName">e.g. <c>PNDMScheduler</c>, <c>EulerDiscreteScheduler</c>, <c>DDIMScheduler</c>, <c>DDPMScheduler</c>.</param>
/// <param name="PredictionType"><c>epsilon</c> or <c>v_prediction</c>.</param>
internal sealed record SchedulerSpec(string ClassName, string PredictionType, double BetaStart = 0.00085, double BetaEnd = 0.012);

/// <summary>Everything that distinguishes one synthetic model folder from another.</summary>
/// <param name="PipelineClass">model_index.json's <c>_class_name</c>.</param>
/// <param name="NativeSize">Training resolution in pixels; written as unet/config.json <c>sample_size</c> = NativeSize / latent factor.</param>
/// <param name="ExternalData">Components too big for one protobuf are written with <c>model.onnx_data</c>.</param>
/// <param name="LowResScheduler">The x4 upscaler's <c>low_res_scheduler</c> (noise added to the low-resolution image).</param>
/// <param name="MaxNoiseLevel">The x4 upscaler's <c>max_noise_level</c> (model_index.json).</param>
/// <param name="DepthEstimator">Ships <c>depth_estimator/</c> and its DPT feature extractor (depth-to-image).</param>
internal sealed record SyntheticPreset(
    string Name,
    string PipelineClass,
    SchedulerSpec Scheduler,
    TokenizerSpec Tokenizer,
    TextEncoderSpec TextEncoder,
    UNetSpec UNet,
    VaeSpec Vae,
    int NativeSize,
    bool ExternalData = false,
    SchedulerSpec? LowResScheduler = null,
    int? MaxNoiseLevel = null,
    bool DepthEstimator = false)
{
    // SD 2.1-base's schedule (stabilityai/stable-diffusion-2-1-base scheduler/scheduler_config.json); SD 1.x uses the same betas.
    private static readonly SchedulerSpec Pndm = new("PNDMScheduler", "epsilon");

    // Tiny networks: about 1.5 MB a folder, milliseconds per UNet call at 64×64 latents. Three UNet levels (64², 32², 16² for a
    // 512-pixel image) with attention only at the lowest, a VAE whose resampling convs change the width (no resnets in the
    // up/down blocks) so the 512² layers stay 8 channels wide.
    private static readonly TextEncoderSpec TinyText = new(VocabSize: 0, Hidden: 32, Layers: 2, Heads: 2, Intermediate: 64, Int64Ids: false, QuickGelu: true);

    private static readonly UNetSpec TinyUNet = new(
        InChannels: 4, BlockOutChannels: [8, 16, 32], DownAttention: [false, false, true], AttentionHeads: [1, 1, 2],
        LayersPerBlock: 1, CrossAttentionDim: 32, NormGroups: 4, LinearProjection: true,
        TimestepShape: TimestepShape.One, Int64Timestep: false);

    private static readonly VaeSpec TinyVae = new(
        BlockOutChannels: [8, 8, 16, 16], ResnetsPerDownBlock: 0, ResnetsPerUpBlock: 0, MidAttention: false, NormGroups: 4,
        ScalingFactor: 0.18215f, EncoderOutputsParameters: true);

    /// <summary>All presets, in the order they are documented.</summary>
    public static readonly IReadOnlyList<SyntheticPreset> All =
    [
        // SD 2.1-base-like: PNDM, epsilon, pads with "!", int32 ids, float32 timestep [1], latent_parameters.
        new("tiny", "StableDiffusionPipeline", Pndm, new TokenizerSpec(PadWithEos: false), TinyText, TinyUNet, TinyVae, NativeSize: 512),

        // SD 2.1 (768-v)-like: v-prediction with Euler, native 768, int64 timestep [batch].
        new("tiny-v", "StableDiffusionPipeline", new SchedulerSpec("EulerDiscreteScheduler", "v_prediction"),
            new TokenizerSpec(PadWithEos: false), TinyText,
            TinyUNet with { TimestepShape = TimestepShape.Batch, Int64Timestep = true }, TinyVae, NativeSize: 768),

        // SD 1.5-like: pads with <|endoftext|>, int64 ids, rank-0 float timestep, conv projections, latent_sample.
        new("tiny-sd1", "StableDiffusionPipeline", Pndm, new TokenizerSpec(PadWithEos: true),
            TinyText with { Hidden = 48, Int64Ids = true, Intermediate = 96 },
            TinyUNet with { CrossAttentionDim = 48, LinearProjection = false, TimestepShape = TimestepShape.Scalar },
            TinyVae with { EncoderOutputsParameters = false }, NativeSize: 512),

        // SD 2-inpainting-like: 9 input channels (latents, mask, masked-image latents).
        new("tiny-inpaint", "StableDiffusionInpaintPipeline", Pndm, new TokenizerSpec(PadWithEos: false), TinyText,
            TinyUNet with { InChannels = 9 }, TinyVae, NativeSize: 512),

        // stabilityai/stable-diffusion-x4-upscaler-like: 7 input channels (latents + low-res RGB), class_labels = noise level,
        // a factor-4 VAE scaled by 0.08333, DDIM v-prediction and a DDPM low-res scheduler over betas 0.0001 → 0.02.
        new("tiny-upscale", "StableDiffusionUpscalePipeline",
            new SchedulerSpec("DDIMScheduler", "v_prediction", BetaStart: 0.0001, BetaEnd: 0.02),
            new TokenizerSpec(PadWithEos: false), TinyText,
            TinyUNet with { InChannels = 7, ClassLabels = true },
            TinyVae with { BlockOutChannels = [8, 16, 16], ScalingFactor = 0.08333f }, NativeSize: 512,
            LowResScheduler: new SchedulerSpec("DDPMScheduler", "epsilon", BetaStart: 0.0001, BetaEnd: 0.02), MaxNoiseLevel: 350),

        // stabilityai/stable-diffusion-2-depth-like: 5 input channels (latents + depth) and a DPT depth estimator.
        new("tiny-depth", "StableDiffusionDepth2ImgPipeline", Pndm, new TokenizerSpec(PadWithEos: false), TinyText,
            TinyUNet with { InChannels = 5 }, TinyVae, NativeSize: 512, DepthEstimator: true),

        // The real stabilityai/stable-diffusion-2-1-base shapes (UNet 865M, text encoder 340M, VAE 84M parameters).
        new("sd21-base", "StableDiffusionPipeline", Pndm, new TokenizerSpec(PadWithEos: false, StartOfTextId: 49406),
            new TextEncoderSpec(VocabSize: 49408, Hidden: 1024, Layers: 23, Heads: 16, Intermediate: 4096, Int64Ids: false, QuickGelu: false),
            new UNetSpec(
                InChannels: 4, BlockOutChannels: [320, 640, 1280, 1280], DownAttention: [true, true, true, false],
                AttentionHeads: [5, 10, 20, 20], LayersPerBlock: 2, CrossAttentionDim: 1024, NormGroups: 32,
                LinearProjection: true, TimestepShape: TimestepShape.One, Int64Timestep: false),
            new VaeSpec(
                BlockOutChannels: [128, 256, 512, 512], ResnetsPerDownBlock: 2, ResnetsPerUpBlock: 3, MidAttention: true,
                NormGroups: 32, ScalingFactor: 0.18215f, EncoderOutputsParameters: true),
            NativeSize: 512, ExternalData: true),

        // The real runwayml/stable-diffusion-v1-5 shapes (UNet 860M, CLIP ViT-L text encoder 123M), exported as tiny-sd1 is.
        new("sd15", "StableDiffusionPipeline", Pndm, new TokenizerSpec(PadWithEos: true, StartOfTextId: 49406),
            new TextEncoderSpec(VocabSize: 49408, Hidden: 768, Layers: 12, Heads: 12, Intermediate: 3072, Int64Ids: true, QuickGelu: true),
            new UNetSpec(
                InChannels: 4, BlockOutChannels: [320, 640, 1280, 1280], DownAttention: [true, true, true, false],
                AttentionHeads: [8, 8, 8, 8], LayersPerBlock: 2, CrossAttentionDim: 768, NormGroups: 32,
                LinearProjection: false, TimestepShape: TimestepShape.Scalar, Int64Timestep: false),
            new VaeSpec(
                BlockOutChannels: [128, 256, 512, 512], ResnetsPerDownBlock: 2, ResnetsPerUpBlock: 3, MidAttention: true,
                NormGroups: 32, ScalingFactor: 0.18215f, EncoderOutputsParameters: false),
            NativeSize: 512, ExternalData: true),
    ];

    public static SyntheticPreset? Find(string name) => All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
}
