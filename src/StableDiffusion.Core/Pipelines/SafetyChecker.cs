using Microsoft.ML.OnnxRuntime;
using StableDiffusion.Core.Imaging;
using StableDiffusion.Core.Models;

namespace StableDiffusion.Core.Pipelines;

/// <summary>
/// The Stable Diffusion NSFW checker (<c>safety_checker/model.onnx</c>: <c>clip_input</c> [b, 3, 224, 224] and
/// <c>images</c> [b, H, W, 3] in [0, 1] → <c>out_images</c>, <c>has_nsfw_concepts</c> bool [b]).
/// </summary>
/// <remarks>
/// As diffusers' ONNX pipeline, one image per call (its exported graph does not support batches > 1), the CLIP input
/// made by the feature extractor from the 8-bit image. We read the flag and black the image out ourselves — the
/// same result the graph's <c>out_images</c> gives, without copying a full-size float image back.
/// </remarks>
public sealed class SafetyChecker
{
    private const string ClipInput = "clip_input";
    private const string ImagesInput = "images";
    private const string FlagOutput = "has_nsfw_concepts";

    private readonly OnnxComponent _component;
    private readonly FeatureExtractor _features;
    private readonly TensorSpec _clip;
    private readonly TensorSpec _images;

    public SafetyChecker(OnnxComponent component, FeatureExtractor features)
    {
        _component = component;
        _features = features;
        _clip = component.Input(ClipInput);
        _images = component.Input(ImagesInput);
        component.Output(FlagOutput);
    }

    /// <summary>True when the image is flagged.</summary>
    public bool IsFlagged(RgbImage image)
    {
        float[] clip = _features.Process(image);
        var pixels = new float[image.Pixels.Length];
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = image.Pixels[i] / 255f;
        }

        using var clipValue = FloatTensorBuffer.Create(_clip.ElementType, clip, [1, 3, _features.OutputHeight, _features.OutputWidth]);
        using var imagesValue = FloatTensorBuffer.Create(_images.ElementType, pixels, [1, image.Height, image.Width, 3]);
        using var outputs = _component.Run([ClipInput, ImagesInput], [clipValue, imagesValue], [FlagOutput]);
        return outputs[0].GetTensorDataAsSpan<bool>()[0];
    }

    /// <summary>Checks the image and, when flagged, replaces it with black in place (as diffusers' checker does).</summary>
    public bool CheckAndBlackOut(RgbImage image)
    {
        bool flagged = IsFlagged(image);
        if (flagged)
        {
            Array.Clear(image.Pixels);
        }

        return flagged;
    }
}
