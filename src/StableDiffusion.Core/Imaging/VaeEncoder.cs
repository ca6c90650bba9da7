using StableDiffusion.Core.Models;
using StableDiffusion.Core.Schedulers;

namespace StableDiffusion.Core.Imaging;

/// <summary>The VAE encoder: an image in [-1, 1] → its latent distribution (img2img, inpainting, depth).</summary>
/// <remarks>
/// Exports differ in what they return. optimum writes <c>latent_parameters</c> [1, 8, h, w] (mean, then log-variance)
/// and samples outside the graph; diffusers' old conversion script wrote <c>latent_sample</c> [1, 4, h, w], sampled
/// inside the graph. diffusers' PyTorch pipelines call <c>retrieve_latents(…, sample_mode="sample")</c>, i.e. they
/// SAMPLE the posterior (mean + std·ε with the pipeline's generator), not take its mean — and so do we, with the job's
/// seeded noise (image k: its own generator, first draw of the job).
/// </remarks>
public sealed class VaeEncoder
{
    private const string SampleInput = "sample";

    private readonly OnnxComponent _component;
    private readonly TensorSpec _input;
    private readonly string _outputName;

    public VaeEncoder(OnnxComponent component, double scalingFactor)
    {
        _component = component;
        _input = component.Input(SampleInput);
        _outputName = component.HasOutput("latent_parameters") ? "latent_parameters"
            : component.HasOutput("latent_sample") ? "latent_sample"
            : component.OutputNames[0];
        ScalingFactor = scalingFactor;
    }

    public double ScalingFactor { get; }

    /// <summary>Runs the encoder on one image, planes [3, H, W] in [-1, 1].</summary>
    public LatentDistribution Encode(ReadOnlySpan<float> planes, int height, int width)
    {
        using var input = FloatTensorBuffer.Create(_input.ElementType, planes, [1, 3, height, width]);
        using var outputs = _component.Run([SampleInput], [input], [_outputName]);
        var shape = outputs[0].GetTensorTypeAndShape().Shape;
        int channels = (int)shape[1], h = (int)shape[2], w = (int)shape[3];
        var values = new float[channels * h * w];
        FloatTensorBuffer.ReadValue(outputs[0], values);
        return channels switch
        {
            4 => new LatentDistribution(values, null, h, w, ScalingFactor),
            8 => LatentDistribution.FromParameters(values, h, w, ScalingFactor),
            _ => throw new InvalidOperationException($"vae_encoder: output '{_outputName}' has {channels} channels; expected 4 (latent_sample) or 8 (latent_parameters)."),
        };
    }
}

/// <summary>A diagonal Gaussian over latents [4, h, w] (diffusers' <c>DiagonalGaussianDistribution</c>); a
/// <c>latent_sample</c> export gives a point (no std).</summary>
public sealed class LatentDistribution
{
    internal LatentDistribution(float[] mean, float[]? std, int height, int width, double scalingFactor)
    {
        Mean = mean;
        Std = std;
        Height = height;
        Width = width;
        ScalingFactor = scalingFactor;
    }

    public float[] Mean { get; }
    /// <summary>exp(½·clamp(logvar, −30, 20)) as diffusers computes it; null for a <c>latent_sample</c> export.</summary>
    public float[]? Std { get; }
    public int Height { get; }
    public int Width { get; }
    public double ScalingFactor { get; }
    public int Length => Mean.Length;

    internal static LatentDistribution FromParameters(float[] parameters, int height, int width, double scalingFactor)
    {
        int half = parameters.Length / 2;
        var mean = parameters.AsSpan(0, half).ToArray();
        var std = new float[half];
        for (int i = 0; i < half; i++)
        {
            float logvar = Math.Clamp(parameters[half + i], -30f, 20f);
            std[i] = MathF.Exp(0.5f * logvar);
        }

        return new LatentDistribution(mean, std, height, width, scalingFactor);
    }

    /// <summary>Scaled latents for a batch [N, 4, h, w]: (mean + std·ε)·scaling_factor, ε from <paramref name="noise"/>
    /// (which gives image k its own generator's draw); a point distribution draws nothing.</summary>
    public void SampleScaled(Span<float> destination, NoiseFill noise)
    {
        int images = destination.Length / Length;
        float scale = (float)ScalingFactor;
        if (Std is not null)
        {
            noise(destination);
        }

        for (int n = 0; n < images; n++)
        {
            var slice = destination.Slice(n * Length, Length);
            for (int i = 0; i < Length; i++)
            {
                float sample = Std is null ? Mean[i] : Mean[i] + Std[i] * slice[i];
                slice[i] = sample * scale;
            }
        }
    }
}
