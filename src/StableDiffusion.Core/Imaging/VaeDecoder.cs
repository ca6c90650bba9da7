using System.Numerics.Tensors;
using StableDiffusion.Core.Models;

namespace StableDiffusion.Core.Imaging;

/// <summary>The VAE decoder: latents / scaling_factor → <c>sample</c> in [-1, 1] → RGB8.</summary>
public sealed class VaeDecoder
{
    private const string LatentInput = "latent_sample";

    private readonly OnnxComponent _component;
    private readonly TensorSpec _input;
    private readonly string _outputName;

    public VaeDecoder(OnnxComponent component, double scalingFactor, int latentFactor)
    {
        _component = component;
        _input = component.Input(LatentInput);
        _outputName = component.HasOutput("sample") ? "sample" : component.OutputNames[0];
        ScalingFactor = scalingFactor;
        LatentFactor = latentFactor;
    }

    public double ScalingFactor { get; }
    public int LatentFactor { get; }

    /// <summary>Decodes one image's latents [4, h, w]. One image per call, as diffusers' ONNX pipeline does, to bound
    /// the decoder's memory (its activations at full resolution dominate the whole pipeline's).</summary>
    public RgbImage Decode(ReadOnlySpan<float> latents, int latentHeight, int latentWidth)
    {
        var scaled = new float[latents.Length];
        TensorPrimitives.Multiply(latents, (float)(1.0 / ScalingFactor), scaled);
        using var input = FloatTensorBuffer.Create(_input.ElementType, scaled, [1, latents.Length / (latentHeight * latentWidth), latentHeight, latentWidth]);
        using var outputs = _component.Run([LatentInput], [input], [_outputName]);
        var shape = outputs[0].GetTensorTypeAndShape().Shape;
        int height = (int)shape[2], width = (int)shape[3];
        var planes = new float[3 * height * width];
        FloatTensorBuffer.ReadValue(outputs[0], planes);
        return ImageTensors.FromPlanes(planes, width, height);
    }
}
