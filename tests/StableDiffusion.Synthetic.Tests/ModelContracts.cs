using Microsoft.ML.OnnxRuntime;

namespace StableDiffusion.Synthetic.Tests;

/// <summary>One declared tensor: name, element type, dimensions (int = fixed, string = symbolic).</summary>
internal sealed record ExpectedTensor(string Name, Type ElementType, params object[] Dims);

/// <summary>The inputs and outputs one component must declare.</summary>
internal sealed record ComponentContract(string Component, ExpectedTensor[] Inputs, ExpectedTensor[] Outputs);

/// <summary>A preset as the tests see it: how it is built and the I/O contract of DESIGN §2 it must keep.</summary>
public sealed record ModelCase(string Preset, bool Fp16)
{
    public override string ToString() => Fp16 ? Preset + " (fp16)" : Preset;
}

/// <summary>DESIGN §2's contract, preset by preset.</summary>
internal static class ModelContracts
{
    public static readonly ModelCase[] Cases =
    [
        new("tiny", false),
        new("tiny", true),
        new("tiny-v", false),
        new("tiny-sd1", false),
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

    public static ComponentContract[] For(ModelCase model)
    {
        Type f = model.Fp16 ? typeof(Float16) : typeof(float);
        int d = HiddenSize(model.Preset);
        (Type idType, Type timestepType, object[] timestepDims, string latentOutput, int latentChannels) = model.Preset switch
        {
            // SD 2.1-base export: int32 ids, float timestep of shape [1], encoder returns mean and log-variance.
            "tiny" => (typeof(int), f, new object[] { 1 }, "latent_parameters", 8),
            // SD 2.1 (v) style: int64 timestep of shape [batch].
            "tiny-v" => (typeof(int), typeof(long), new object[] { "batch" }, "latent_parameters", 8),
            // SD 1.5 export: int64 ids, rank-0 float timestep (optimum >= 1.24), encoder returns a sample.
            "tiny-sd1" => (typeof(long), f, Array.Empty<object>(), "latent_sample", 4),
            _ => throw new ArgumentException(model.Preset),
        };
        return
        [
            new("text_encoder",
                [new("input_ids", idType, "batch", 77)],
                [new("last_hidden_state", f, "batch", 77, d), new("pooler_output", f, "batch", d)]),
            new("unet",
                [
                    new("sample", f, "batch", 4, "height", "width"),
                    new("timestep", timestepType, timestepDims),
                    new("encoder_hidden_states", f, "batch", 77, d),
                ],
                [new("out_sample", f, "batch", 4, "height", "width")]),
            new("vae_decoder",
                [new("latent_sample", f, "batch", 4, "latent_height", "latent_width")],
                [new("sample", f, "batch", 3, "height", "width")]),
            new("vae_encoder",
                [new("sample", f, "batch", 3, "height", "width")],
                [new(latentOutput, f, "batch", latentChannels, "latent_height", "latent_width")]),
        ];
    }

    public static void AssertDeclared(ExpectedTensor[] expected, IReadOnlyDictionary<string, NodeMetadata> actual)
    {
        Assert.Equal(expected.Select(e => e.Name), actual.Keys);
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
