namespace StableDiffusion.Synthetic.Networks;

/// <summary>
/// A tiny stand-in for DPT (transformers <c>DPTForDepthEstimation</c>, as SD 2-depth ships it): an encoder of stride-2 convs,
/// a decoder of ×2 upsampling convs, and DPT's head ending in ReLU so depth is never negative.
/// </summary>
internal static class DepthEstimatorGraph
{
    /// <summary>DPT-Hybrid's input size in SD 2-depth's feature extractor config.</summary>
    public const int InputSize = 384;

    public static void Build(GraphBuilder b)
    {
        string pixels = b.FloatInput("pixel_values", "batch", 3, InputSize, InputSize);
        string x = b.SiLU(b.Conv(pixels, "backbone.conv1", 3, 8, 3, stride: 2));
        x = b.SiLU(b.Conv(x, "backbone.conv2", 8, 16, 3, stride: 2));
        x = b.SiLU(b.Conv(x, "neck.conv", 16, 16, 3));
        x = b.SiLU(b.Conv(b.Upsample2x(x), "head.head.0", 16, 8, 3));
        x = b.Conv(b.Upsample2x(x), "head.head.2", 8, 1, 3);
        string depth = b.Op("Squeeze", [b.Op("Relu", [x]), b.Int64s(1)]);
        b.FloatOutput(depth, "predicted_depth", "batch", InputSize, InputSize);
    }
}
