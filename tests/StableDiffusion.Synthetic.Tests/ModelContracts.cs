using Microsoft.ML.OnnxRuntime;

namespace StableDiffusion.Synthetic.Tests;

/// <summary>One declared tensor: name, element type, dimensions (int = fixed, string = symbolic).</summary>
internal sealed record ExpectedTensor(string Name, Type ElementType, params object[] Dims);

/// <summary>The inputs and outputs one component must declare.</summary>
internal sealed record ComponentContract(string Component, ExpectedTensor[] Inputs, ExpectedTensor[] Outputs);

/// <summary>A synthetic folder as the tests see it: a preset and the options it was built with.</summary>
public sealed record ModelCase(string Preset, bool Fp16 = false, bool SafetyChecker = false)
{
    public override string ToString() => Preset + (Fp16 ? " (fp16)" : "") + (SafetyChecker ? " (+safety checker)" : "");
}

/// <summary>DESIGN §2's contract, preset by preset.</summary>
internal static class ModelContracts
{
    public static readonly ModelCase[] Cases =
    [
        new("tiny"),
        new("tiny", Fp16: true),
        new("tiny-v"),
        new("tiny-sd1"),
        new("tiny-inpaint"),
        new("tiny-upscale"),
        new("tiny-depth"),
        new("tiny", SafetyChecker: true),
        new("tiny-sd1", Fp16: true, SafetyChecker: true),
    ];

    public static TheoryData<ModelCase> All()
    {
        var data = new TheoryData<ModelCase>();
        foreach (ModelCase c in Cases)
        {
            data.Add(c);
        }
        return data;
    }

    /// <summary>Width of the text embedding per preset.</summary>
    public static int HiddenSize(string preset) => preset == "tiny-sd1" ? 48 : 32;

    /// <summary>Pixels per latent: 4 for the x4 upscaler's VAE, 8 otherwise.</summary>
    public static int LatentFactor(string preset) => preset == "tiny-upscale" ? 4 : 8;

    /// <summary>UNet input channels: 9 inpainting, 7 x4 upscaler, 5 depth, else 4.</summary>
    public static int UNetChannels(string preset) => preset switch
    {
        "tiny-inpaint" => 9,
        "tiny-upscale" => 7,
        "tiny-depth" => 5,
        _ => 4,
    };

    public static ComponentContract[] For(ModelCase model)
    {
        Type f = model.Fp16 ? typeof(Float16) : typeof(float);
        int d = HiddenSize(model.Preset);
        (Type idType, Type timestepType, object[] timestepDims, string latentOutput, int latentChannels) = model.Preset switch
        {
            // SD 1.5 export: int64 ids, rank-0 float timestep (optimum >= 1.24), encoder returns a sample.
            "tiny-sd1" => (typeof(long), f, Array.Empty<object>(), "latent_sample", 4),
            // SD 2.1 (v) style: int64 timestep of shape [batch].
            "tiny-v" => (typeof(int), typeof(long), new object[] { "batch" }, "latent_parameters", 8),
            // SD 2.x exports: int32 ids, float timestep of shape [1], encoder returns mean and log-variance.
            _ => (typeof(int), f, new object[] { 1 }, "latent_parameters", 8),
        };
        var unetInputs = new List<ExpectedTensor>
        {
            new("sample", f, "batch", UNetChannels(model.Preset), "height", "width"),
            new("timestep", timestepType, timestepDims),
            new("encoder_hidden_states", f, "batch", 77, d),
        };
        if (model.Preset == "tiny-upscale")
        {
            unetInputs.Add(new("class_labels", typeof(long), "batch"));
        }
        var contracts = new List<ComponentContract>
        {
            new("text_encoder",
                [new("input_ids", idType, "batch", 77)],
                [new("last_hidden_state", f, "batch", 77, d), new("pooler_output", f, "batch", d)]),
            new("unet", [.. unetInputs], [new("out_sample", f, "batch", 4, "height", "width")]),
            new("vae_decoder",
                [new("latent_sample", f, "batch", 4, "latent_height", "latent_width")],
                [new("sample", f, "batch", 3, "height", "width")]),
            new("vae_encoder",
                [new("sample", f, "batch", 3, "height", "width")],
                [new(latentOutput, f, "batch", latentChannels, "latent_height", "latent_width")]),
        };
        if (model.Preset == "tiny-depth")
        {
            contracts.Add(new("depth_estimator",
                [new("pixel_values", f, "batch", 3, 384, 384)],
                [new("predicted_depth", f, "batch", 384, 384)]));
        }
        if (model.SafetyChecker)
        {
            contracts.Add(new("safety_checker",
                [new("clip_input", f, "batch", 3, 224, 224), new("images", f, "batch", "height", "width", 3)],
                [new("has_nsfw_concepts", typeof(bool), "batch"), new("out_images", f, "batch", "height", "width", 3)]));
        }
        return [.. contracts];
    }

    public static void AssertDeclared(ExpectedTensor[] expected, IReadOnlyDictionary<string, NodeMetadata> actual)
    {
        Assert.Equal(expected.Select(e => e.Name).Order(), actual.Keys.Order());
        foreach (ExpectedTensor tensor in expected)
        {
            NodeMetadata metadata = actual[tensor.Name];
            Assert.True(metadata.ElementType == tensor.ElementType,
                $"{tensor.Name}: expected {tensor.ElementType.Name}, declared {metadata.ElementType.Name}");
            Assert.True(tensor.Dims.Length == metadata.Dimensions.Length,
                $"{tensor.Name}: expected rank {tensor.Dims.Length}, declared [{string.Join(", ", metadata.Dimensions)}]");
            for (int i = 0; i < tensor.Dims.Length; i++)
            {
                if (tensor.Dims[i] is string symbol)
                {
                    Assert.Equal(-1, metadata.Dimensions[i]);
                    Assert.Equal(symbol, metadata.SymbolicDimensions[i]);
                }
                else
                {
                    Assert.Equal((int)tensor.Dims[i], metadata.Dimensions[i]);
                }
            }
        }
    }
}
