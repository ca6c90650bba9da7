using StableDiffusion.Core.Imaging;
using StableDiffusion.Core.Models;

namespace StableDiffusion.Core.Pipelines;

/// <summary>The DPT depth estimator of stable-diffusion-2-depth (<c>depth_estimator/model.onnx</c>:
/// <c>pixel_values</c> [b, 3, 384, 384] → <c>predicted_depth</c> [b, 384, 384], larger = nearer).</summary>
public sealed class DepthEstimator
{
    private const string PixelInput = "pixel_values";
    private const string DepthOutput = "predicted_depth";

    private readonly OnnxComponent _component;
    private readonly FeatureExtractor _features;
    private readonly TensorSpec _input;
    private readonly string _outputName;

    public DepthEstimator(OnnxComponent component, FeatureExtractor features)
    {
        _component = component;
        _input = component.Input(PixelInput);
        _outputName = component.HasOutput(DepthOutput) ? DepthOutput : component.OutputNames[0];
        // A fixed input size in the graph wins over the processor config (they agree on real exports: 384).
        if (_input.FixedDimension(2) is long h && _input.FixedDimension(3) is long w)
        {
            features = features with { ShortestEdge = null, ResizeHeight = (int)h, ResizeWidth = (int)w, CropHeight = null, CropWidth = null };
        }

        _features = features;
    }

    /// <summary>Estimates depth from the (original, un-resized) input image, as diffusers feeds its feature extractor.</summary>
    public (float[] Depth, int Height, int Width) Estimate(RgbImage image)
    {
        float[] pixels = _features.Process(image);
        using var input = FloatTensorBuffer.Create(_input.ElementType, pixels, [1, 3, _features.OutputHeight, _features.OutputWidth]);
        using var outputs = _component.Run([PixelInput], [input], [_outputName]);
        var shape = outputs[0].GetTensorTypeAndShape().Shape;
        int height = (int)shape[^2], width = (int)shape[^1];
        var depth = new float[height * width];
        FloatTensorBuffer.ReadValue(outputs[0], depth);
        return (depth, height, width);
    }
}
