using DataType = Onnx.TensorProto.Types.DataType;

namespace StableDiffusion.Synthetic.Networks;

/// <summary>
/// A stand-in for diffusers' ONNX <c>StableDiffusionSafetyChecker</c> with its exact I/O (<c>clip_input</c>, <c>images</c> →
/// <c>out_images</c>, <c>has_nsfw_concepts</c>). Random CLIP weights would flag arbitrary images, so its rule is fixed instead:
/// an image is flagged when the mean of its CLIP-normalised input exceeds <see cref="Threshold"/> (a near-white image),
/// which lets tests reach both outcomes on purpose. Flagged images come back black, as diffusers returns them.
/// </summary>
internal static class SafetyCheckerGraph
{
    public const int ClipSize = 224;

    /// <summary>A white pixel normalises to (1 − 0.481)/0.269 ≈ 1.93 with CLIP's mean and std; mid-grey to about 0.</summary>
    public const float Threshold = 1.5f;

    public static void Build(GraphBuilder b)
    {
        string clipInput = b.FloatInput("clip_input", "batch", 3, ClipSize, ClipSize);
        string images = b.FloatInput("images", "batch", "height", "width", 3);
        string score = b.Op("ReduceMean", [clipInput], ("axes", new long[] { 1, 2, 3 }), ("keepdims", 0L));
        string flagged = b.Op("Greater", [score, b.Scalar(Threshold)]);
        b.Output(flagged, "has_nsfw_concepts", DataType.Bool, "batch");
        string black = b.Op("Where", [b.Reshape(flagged, -1, 1, 1, 1), b.Scalar(0f), images]);
        b.FloatOutput(black, "out_images", "batch", "height", "width", 3);
    }
}
