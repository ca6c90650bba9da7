using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;
using StableDiffusion.Core.Models;
using DataType = Onnx.TensorProto.Types.DataType;

namespace StableDiffusion.Core.Pipelines;

/// <summary>
/// The two small ONNX graphs that keep a denoising run's latents on the device (see <see cref="DeviceSteps"/>), run by
/// the UNet's execution provider:
/// <list type="bullet">
/// <item><c>latent_guide</c>, <c>latent_guide_cfg</c>: the UNet's prediction [H, N, L] (H = 2 with classifier-free guidance: uncond, cond) → the guided
/// prediction [1, N, L] in float32, (cond − uncond)·s_n + uncond with a scale per image, as the host loop computes it.</item>
/// <item><c>latent_combine</c>: the run's basis tensors [K, N, L] and two coefficient rows [2, K, 1, 1] → the latents
/// Σ c₀ₖ·basisₖ [N, L] and the UNet's next input Σ c₁ₖ·basisₖ, cast to the UNet's input type and repeated H times
/// [H, N, L].</item>
/// </list>
/// </summary>
/// <remarks>Written as ONNX graphs rather than CUDA kernels because ONNX Runtime is the one GPU runtime the server
/// ships: the same graphs run on the CPU provider, which is how the tests check the device path against the host one.</remarks>
internal sealed class LatentStepGraphs : IDisposable
{
    private const int Opset = 17;

    public LatentStepGraphs(UNetModel unet, SessionOptions options, string provider)
    {
        try
        {
            GuideOne = OnnxComponent.FromModel("latent_guide", GuideGraph(unet.Output.ElementType, guided: false), options, provider);
            GuideTwo = OnnxComponent.FromModel("latent_guide_cfg", GuideGraph(unet.Output.ElementType, guided: true), options, provider);
            Combine = OnnxComponent.FromModel("latent_combine", CombineGraph(unet.Sample.ElementType), options, provider);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Prediction [1, N, L] → float32 [1, N, L] (no guidance).</summary>
    public OnnxComponent GuideOne { get; } = null!;

    /// <summary>Prediction [2, N, L], scale [1, N, 1] → guided float32 [1, N, L].</summary>
    public OnnxComponent GuideTwo { get; } = null!;

    /// <summary>Basis [K, N, L], coefficients [2, K, 1, 1], halves [3] → latents [N, L], UNet input [H, N, L].</summary>
    public OnnxComponent Combine { get; } = null!;

    public void Dispose()
    {
        GuideOne?.Dispose();
        GuideTwo?.Dispose();
        Combine?.Dispose();
    }

    private static byte[] GuideGraph(TensorElementType outputType, bool guided)
    {
        var graph = new GraphProto { Name = guided ? "latent_guide_cfg" : "latent_guide" };
        graph.Input.Add(ValueInfo("prediction", DataTypeOf(outputType), guided ? 2 : 1, "n", "l"));
        string prediction = AsFloat(graph, "prediction", outputType);
        if (guided)
        {
            graph.Input.Add(ValueInfo("scale", DataType.Float, 1, "n", 1));
            Int64(graph, "zero", 0);
            Int64(graph, "one", 1);
            Int64(graph, "two", 2);
            Node(graph, "Slice", [prediction, "zero", "one", "zero"], "uncond");
            Node(graph, "Slice", [prediction, "one", "two", "zero"], "cond");
            Node(graph, "Sub", ["cond", "uncond"], "difference");
            Node(graph, "Mul", ["difference", "scale"], "scaled");
            Node(graph, "Add", ["scaled", "uncond"], "guided");
        }
        else
        {
            Node(graph, "Identity", [prediction], "guided");
        }

        graph.Output.Add(ValueInfo("guided", DataType.Float, 1, "n", "l"));
        return Model(graph);
    }

    private static byte[] CombineGraph(TensorElementType sampleType)
    {
        var graph = new GraphProto { Name = "latent_combine" };
        graph.Input.Add(ValueInfo("basis", DataType.Float, "k", "n", "l"));
        graph.Input.Add(ValueInfo("coefficients", DataType.Float, 2, "k", 1, 1));
        graph.Input.Add(ValueInfo("halves", DataType.Int64, 3));
        Int64(graph, "zero", 0, scalar: true);
        Int64(graph, "one", 1, scalar: true);
        Int64(graph, "axis", 0);
        Node(graph, "Gather", ["coefficients", "zero"], "latent_weights");
        Node(graph, "Gather", ["coefficients", "one"], "input_weights");
        Node(graph, "Mul", ["basis", "latent_weights"], "latent_terms");
        Node(graph, "ReduceSum", ["latent_terms", "axis"], "latents", ("keepdims", 0));
        Node(graph, "Mul", ["basis", "input_weights"], "input_terms");
        Node(graph, "ReduceSum", ["input_terms", "axis"], "input_f", ("keepdims", 1));
        string input = "input_f";
        if (sampleType != TensorElementType.Float)
        {
            Node(graph, "Cast", ["input_f"], "input_t", ("to", (long)DataTypeOf(sampleType)));
            input = "input_t";
        }

        Node(graph, "Expand", [input, "halves"], "sample");
        graph.Output.Add(ValueInfo("latents", DataType.Float, "n", "l"));
        graph.Output.Add(ValueInfo("sample", DataTypeOf(sampleType), "h", "n", "l"));
        return Model(graph);
    }

    /// <summary>The float32 value of a graph input (a Cast for float16 / bfloat16 I/O).</summary>
    private static string AsFloat(GraphProto graph, string name, TensorElementType type)
    {
        if (type == TensorElementType.Float)
        {
            Node(graph, "Identity", [name], name + "_f");
        }
        else
        {
            Node(graph, "Cast", [name], name + "_f", ("to", (long)DataType.Float));
        }

        return name + "_f";
    }

    private static void Node(GraphProto graph, string op, string[] inputs, string output, params (string Name, long Value)[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = output + "_" + op };
        node.Input.Add(inputs);

        node.Output.Add(output);
        foreach (var (name, value) in attributes)
        {
            node.Attribute.Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value });
        }

        graph.Node.Add(node);
    }

    private static void Int64(GraphProto graph, string name, long value, bool scalar = false)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)DataType.Int64 };
        if (!scalar)
        {
            tensor.Dims.Add(1);
        }

        tensor.Int64Data.Add(value);
        graph.Initializer.Add(tensor);
    }

    private static ValueInfoProto ValueInfo(string name, DataType type, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
        {
            shape.Dim.Add(dim switch
            {
                string symbol => new TensorShapeProto.Types.Dimension { DimParam = symbol },
                int size => new TensorShapeProto.Types.Dimension { DimValue = size },
                _ => throw new ArgumentException($"Dimension {dim} of '{name}'."),
            });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    private static DataType DataTypeOf(TensorElementType type) => type switch
    {
        TensorElementType.Float => DataType.Float,
        TensorElementType.Float16 => DataType.Float16,
        TensorElementType.BFloat16 => DataType.Bfloat16,
        _ => throw new NotSupportedException($"A UNet with {type} latents cannot step on the device."),
    };

    private static byte[] Model(GraphProto graph)
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "StableDiffusion.Server", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model.ToByteArray();
    }
}
