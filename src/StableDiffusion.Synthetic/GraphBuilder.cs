using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace StableDiffusion.Synthetic;

/// <summary>Builds one ONNX graph (opset 17) layer by layer, so the network code reads like the PyTorch module it imitates.</summary>
/// <remarks>
/// Computation is float32 throughout. In fp16 mode weights are stored as float16 initializers and Cast to float32 in-graph,
/// and float tensor I/O is float16 with Casts right after the inputs and before the outputs: ONNX Runtime's CPU provider
/// lacks most float16 kernels, and this way an fp16 model both loads and runs on CPU while presenting the I/O types of a
/// GPU export. Parameter names follow diffusers/transformers module paths (set with <see cref="Scope"/>).
/// </remarks>
internal sealed partial class GraphBuilder
{
    public const int Opset = 17;
    /// <summary>IR version 8 is the one that goes with opset 17 (onnx's VERSION_TABLE for onnx 1.12).</summary>
    private const long IrVersion = 8;
    /// <summary>Tensors at least this big go to the external data file when there is one (the onnx package's default threshold).</summary>
    private const int ExternalThresholdBytes = 1024;

    private readonly GraphProto _graph;
    private readonly int _seed;
    private readonly string _component;
    private readonly ExternalDataFile? _external;
    private readonly List<string> _scopes = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _int64Constants = new(StringComparer.Ordinal);
    private int _counter;

    public GraphBuilder(string component, int seed, bool fp16, ExternalDataFile? external = null)
    {
        _graph = new GraphProto { Name = component };
        _component = component;
        _seed = seed;
        Fp16 = fp16;
        _external = external;
    }

    /// <summary>Weights and float I/O are float16.</summary>
    public bool Fp16 { get; }

    /// <summary>Float element type of the graph's float inputs and outputs.</summary>
    public DataType FloatIo => Fp16 ? DataType.Float16 : DataType.Float;

    /// <summary>Enters a module scope: parameters created inside are named <c>scope.sub.name</c>.</summary>
    public ScopeHandle Scope(string name)
    {
        _scopes.Add(name);
        return new ScopeHandle(this);
    }

    public readonly struct ScopeHandle(GraphBuilder owner) : IDisposable
    {
        public void Dispose() => owner._scopes.RemoveAt(owner._scopes.Count - 1);
    }

    // ---------------------------------------------------------------- inputs and outputs

    /// <summary>Declares a graph input. Dimensions are <see cref="int"/>/<see cref="long"/> (fixed) or <see cref="string"/> (symbolic).</summary>
    public string Input(string name, DataType type, params object[] dims)
    {
        _graph.Input.Add(ValueInfo(name, type, dims));
        _names.Add(name);
        return name;
    }

    /// <summary>Declares a float input (float16 in fp16 mode) and returns its float32 value.</summary>
    public string FloatInput(string name, params object[] dims)
    {
        Input(name, FloatIo, dims);
        return Fp16 ? Cast(name, DataType.Float) : name;
    }

    /// <summary>Declares a graph output named <paramref name="name"/> carrying <paramref name="value"/>.</summary>
    public void Output(string value, string name, DataType type, params object[] dims)
    {
        _names.Add(name);
        Op("Identity", [value], name);
        _graph.Output.Add(ValueInfo(name, type, dims));
    }

    /// <summary>Declares a float output (float16 in fp16 mode) from a float32 value.</summary>
    public void FloatOutput(string value, string name, params object[] dims)
    {
        _names.Add(name);
        if (Fp16)
        {
            Op("Cast", [value], name, ("to", (long)DataType.Float16));
        }
        else
        {
            Op("Identity", [value], name);
        }
        _graph.Output.Add(ValueInfo(name, FloatIo, dims));
    }

    private static ValueInfoProto ValueInfo(string name, DataType type, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (object dim in dims)
        {
            shape.Dim.Add(dim switch
            {
                string symbol => new TensorShapeProto.Types.Dimension { DimParam = symbol },
                int size => new TensorShapeProto.Types.Dimension { DimValue = size },
                long size => new TensorShapeProto.Types.Dimension { DimValue = size },
                _ => throw new ArgumentException($"Unsupported dimension {dim}.", nameof(dims)),
            });
        }
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    // ---------------------------------------------------------------- parameters and constants

    /// <summary>A trainable-looking parameter drawn from N(0, std²); returns its float32 value.</summary>
    public string Weight(string name, long[] shape, float std)
    {
        string fullName = ParameterName(name);
        float[] values = new float[Count(shape)];
        new WeightRandom(_seed, _component + "/" + fullName).FillGaussian(values, std);
        return Parameter(fullName, shape, values);
    }

    /// <summary>A parameter initialised to a constant (norm scales are 1 and shifts 0, as PyTorch initialises them).</summary>
    public string Filled(string name, long[] shape, float value)
    {
        float[] values = new float[Count(shape)];
        values.AsSpan().Fill(value);
        return Parameter(ParameterName(name), shape, values);
    }

    private string Parameter(string fullName, long[] shape, float[] values)
    {
        if (!Fp16)
        {
            AddInitializer(fullName, shape, DataType.Float, MemoryMarshal.AsBytes(values.AsSpan()));
            return fullName;
        }
        var halves = new Half[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            halves[i] = (Half)values[i];
        }
        AddInitializer(fullName, shape, DataType.Float16, MemoryMarshal.AsBytes(halves.AsSpan()));
        return Cast(fullName, DataType.Float);
    }

    /// <summary>A float32 constant of the computation (never float16, never external).</summary>
    public string Constant(float[] values, params long[] shape)
    {
        string name = UniqueName("const");
        _graph.Initializer.Add(Tensor(name, shape, DataType.Float, MemoryMarshal.AsBytes(values.AsSpan())));
        return name;
    }

    /// <summary>A float32 scalar constant (rank 0).</summary>
    public string Scalar(float value) => Constant([value]);

    /// <summary>An int64 vector constant (shapes, axes); equal vectors share one initializer.</summary>
    public string Int64s(params long[] values)
    {
        string key = string.Join(",", values);
        if (_int64Constants.TryGetValue(key, out string? existing))
        {
            return existing;
        }
        string name = UniqueName("shape");
        _graph.Initializer.Add(Tensor(name, [values.Length], DataType.Int64, MemoryMarshal.AsBytes(values.AsSpan())));
        _int64Constants[key] = name;
        return name;
    }

    private void AddInitializer(string name, long[] shape, DataType type, ReadOnlySpan<byte> bytes)
    {
        if (!_names.Add(name))
        {
            throw new InvalidOperationException($"Duplicate parameter name '{name}'.");
        }
        if (_external is null || bytes.Length < ExternalThresholdBytes)
        {
            _graph.Initializer.Add(Tensor(name, shape, type, bytes));
            return;
        }
        long offset = _external.Append(bytes);
        var tensor = new TensorProto { Name = name, DataType = (int)type, DataLocation = TensorProto.Types.DataLocation.External };
        tensor.Dims.AddRange(shape);
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = _external.Location });
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        _graph.Initializer.Add(tensor);
    }

    private static TensorProto Tensor(string name, long[] shape, DataType type, ReadOnlySpan<byte> bytes)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(bytes) };
        tensor.Dims.AddRange(shape);
        return tensor;
    }

    private string ParameterName(string local) => _scopes.Count == 0 ? local : string.Join(".", _scopes) + "." + local;

    private static long Count(long[] shape)
    {
        long count = 1;
        foreach (long dim in shape)
        {
            count *= dim;
        }
        return count;
    }

    // ---------------------------------------------------------------- nodes

    /// <summary>Adds a node with one output; returns the output's name.</summary>
    public string Op(string type, string[] inputs, params (string Name, object Value)[] attributes) =>
        Op(type, inputs, UniqueName(type), attributes);

    private string Op(string type, string[] inputs, string output, params (string Name, object Value)[] attributes)
    {
        AddNode(type, inputs, [output], attributes);
        return output;
    }

    /// <summary>Adds a node with <paramref name="outputCount"/> outputs.</summary>
    public string[] OpMulti(string type, string[] inputs, int outputCount, params (string Name, object Value)[] attributes)
    {
        string[] outputs = new string[outputCount];
        for (int i = 0; i < outputCount; i++)
        {
            outputs[i] = UniqueName(type);
        }
        AddNode(type, inputs, outputs, attributes);
        return outputs;
    }

    private void AddNode(string type, string[] inputs, string[] outputs, (string Name, object Value)[] attributes)
    {
        var node = new NodeProto { OpType = type, Name = UniqueName("node_" + type) };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        foreach ((string name, object value) in attributes)
        {
            node.Attribute.Add(Attribute(name, value));
        }
        _graph.Node.Add(node);
    }


    private string UniqueName(string stem)
    {
        string prefix = _scopes.Count == 0 ? "" : "/" + string.Join("/", _scopes) + "/";
        string name;
        do
        {
            name = $"{prefix}{stem}_{_counter++}";
        }
        while (!_names.Add(name));
        return name;
    }

    // ---------------------------------------------------------------- element-wise and tensor ops

    public string Add(string a, string b) => Op("Add", [a, b]);
    public string Mul(string a, string b) => Op("Mul", [a, b]);
    public string MatMul(string a, string b) => Op("MatMul", [a, b]);
    public string Sigmoid(string x) => Op("Sigmoid", [x]);
    public string Softmax(string x) => Op("Softmax", [x], ("axis", -1L));
    public string Cast(string x, DataType to) => Op("Cast", [x], ("to", (long)to));
    public string Shape(string x) => Op("Shape", [x]);
    public string Shape(string x, long start, long end) => Op("Shape", [x], ("start", start), ("end", end));
    public string Reshape(string x, params long[] shape) => Op("Reshape", [x, Int64s(shape)]);
    public string ReshapeLike(string x, string shape) => Op("Reshape", [x, shape]);
    public string Transpose(string x, params long[] perm) => Op("Transpose", [x], ("perm", perm));
    public string Unsqueeze(string x, params long[] axes) => Op("Unsqueeze", [x, Int64s(axes)]);
    public string Concat(long axis, params string[] inputs) => Op("Concat", inputs, ("axis", axis));

    /// <summary>SiLU (swish): x·σ(x); opset 17 has no SiLU operator.</summary>
    public string SiLU(string x) => Mul(x, Sigmoid(x));

    /// <summary>CLIP's quick_gelu: x·σ(1.702x).</summary>
    public string QuickGelu(string x) => Mul(x, Sigmoid(Mul(x, Scalar(1.702f))));

    /// <summary>Exact GELU, 0.5·x·(1 + erf(x/√2)); the Gelu operator only arrives in opset 20.</summary>
    public string Gelu(string x)
    {
        string erf = Op("Erf", [Mul(x, Scalar((float)(1.0 / Math.Sqrt(2.0))))]);
        return Mul(Mul(x, Scalar(0.5f)), Add(erf, Scalar(1f)));
    }

    // ---------------------------------------------------------------- layers

    /// <summary>nn.Linear over the last axis. The weight is stored [in, out] (transposed from PyTorch) to feed MatMul directly.</summary>
    public string Linear(string x, string name, int inFeatures, int outFeatures, bool bias = true)
    {
        using var scope = Scope(name);
        string y = MatMul(x, Weight("weight", [inFeatures, outFeatures], 1f / MathF.Sqrt(inFeatures)));
        return bias ? Add(y, Weight("bias", [outFeatures], 0.02f)) : y;
    }

    /// <summary>nn.Conv2d on NCHW; <paramref name="pads"/> defaults to "same" padding for odd kernels.</summary>
    public string Conv(string x, string name, int inChannels, int outChannels, int kernel, int stride = 1, long[]? pads = null)
    {
        using var scope = Scope(name);
        long half = kernel / 2;
        string weight = Weight("weight", [outChannels, inChannels, kernel, kernel], 1f / MathF.Sqrt(inChannels * kernel * kernel));
        string bias = Weight("bias", [outChannels], 0.02f);
        return Op("Conv", [x, weight, bias],
            ("kernel_shape", new long[] { kernel, kernel }),
            ("strides", new long[] { stride, stride }),
            ("pads", pads ?? [half, half, half, half]));
    }

    /// <summary>nn.LayerNorm over the last axis (LayerNormalization is standard from opset 17).</summary>
    public string LayerNorm(string x, string name, int dim, float epsilon = 1e-5f)
    {
        using var scope = Scope(name);
        return Op("LayerNormalization", [x, Filled("weight", [dim], 1f), Filled("bias", [dim], 0f)],
            ("axis", -1L), ("epsilon", epsilon));
    }

    /// <summary>
    /// nn.GroupNorm on NCHW, written the way PyTorch's exporter writes it before opset 18:
    /// Reshape to [N, groups, -1], InstanceNormalization, Reshape back, per-channel affine.
    /// </summary>
    public string GroupNorm(string x, string name, int channels, int groups, float epsilon = 1e-5f)
    {
        using var scope = Scope(name);
        float[] ones = new float[groups];
        ones.AsSpan().Fill(1f);
        string grouped = Reshape(x, 0, groups, -1);
        string normalized = Op("InstanceNormalization", [grouped, Constant(ones, groups), Constant(new float[groups], groups)],
            ("epsilon", epsilon));
        string restored = ReshapeLike(normalized, Shape(x));
        string gamma = Filled("weight", [channels, 1, 1], 1f);
        string beta = Filled("bias", [channels, 1, 1], 0f);
        return Add(Mul(restored, gamma), beta);
    }

    /// <summary>Nearest-neighbour ×2 upsampling (F.interpolate(scale_factor=2.0, mode="nearest")).</summary>
    public string Upsample2x(string x) =>
        Op("Resize", [x, "", Constant([1f, 1f, 2f, 2f], 4)],
            ("mode", "nearest"), ("coordinate_transformation_mode", "asymmetric"), ("nearest_mode", "floor"));

    /// <summary>Nearest-neighbour upsampling to the spatial size of <paramref name="like"/> (diffusers' <c>upsample_size</c>), so odd sizes round-trip.</summary>
    public string UpsampleLike(string x, string like)
    {
        string sizes = Concat(0, Shape(x, 0, 2), Shape(like, 2, 4));
        return Op("Resize", [x, "", "", sizes],
            ("mode", "nearest"), ("coordinate_transformation_mode", "asymmetric"), ("nearest_mode", "floor"));
    }

    // ---------------------------------------------------------------- model

    /// <summary>The finished model proto.</summary>
    private ModelProto ToModel()
    {
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "StableDiffusion.Synthetic",
            ProducerVersion = "1",
            DocString = "Synthetic model with random weights: its images are noise.",
            Graph = _graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model;
    }

    /// <summary>Writes the model to <paramref name="path"/>; returns its size in bytes.</summary>
    public long Save(string path)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        ToModel().WriteTo(stream);
        return stream.Length;
    }
}
