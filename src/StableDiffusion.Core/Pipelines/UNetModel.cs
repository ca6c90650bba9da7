using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using StableDiffusion.Core.Models;

namespace StableDiffusion.Core.Pipelines;

/// <summary>The UNet of a model folder, with the shape of its <c>timestep</c> input and channel count read at load.</summary>
public sealed class UNetModel : IDisposable
{
    public const string SampleInput = "sample";
    public const string TimestepInput = "timestep";
    public const string HiddenInput = "encoder_hidden_states";
    public const string ClassLabelsInput = "class_labels";

    public UNetModel(OnnxComponent component, int? configuredInChannels)
    {
        Component = component;
        Sample = component.Input(SampleInput);
        Timestep = component.Input(TimestepInput);
        Hidden = component.Input(HiddenInput);
        OutputName = component.HasOutput("out_sample") ? "out_sample" : component.OutputNames[0];
        Output = component.Output(OutputName);
        if (Sample.Rank != 4)
        {
            throw new ModelLoadException($"unet: input '{SampleInput}' must be [batch, C, h, w], found {Sample}.");
        }

        if (Timestep.ElementType is not (TensorElementType.Float or TensorElementType.Float16 or TensorElementType.Int64 or TensorElementType.Int32))
        {
            throw new ModelLoadException($"unet: input '{TimestepInput}' must be float32, float16 or int64, found {Timestep.ElementType}.");
        }

        InChannels = Sample.FixedDimension(1) is long c ? (int)c : configuredInChannels ?? 4;
        HasClassLabels = component.HasInput(ClassLabelsInput);
    }

    public OnnxComponent Component { get; }
    public TensorSpec Sample { get; }
    public TensorSpec Timestep { get; }
    public TensorSpec Hidden { get; }
    public TensorSpec Output { get; }
    public string OutputName { get; }
    /// <summary>4 for text-to-image, 9 inpainting, 5 depth, 7 the x4 upscaler.</summary>
    public int InChannels { get; }
    public bool HasClassLabels { get; }

    /// <summary>Device-resident I/O (see <see cref="ModelLoadOptions.IoBinding"/>); null = plain runs.</summary>
    public UNetBindings? Bindings { get; private set; }

    /// <summary>Binds the UNet's I/O in <paramref name="memory"/> from now on; with <paramref name="stepOptions"/>, text-to-image
    /// and image-to-image runs also guide and step on the device (<see cref="DeviceSteps"/>), in sessions of those options.</summary>
    public void BindIo(DeviceMemory memory, bool cudaGraph, SessionOptions? stepOptions = null, string provider = "cpu")
    {
        Bindings?.Dispose();
        Bindings = null;
        var steps = stepOptions is null ? null : new LatentStepGraphs(this, stepOptions, provider);
        Bindings = new UNetBindings(this, memory, cudaGraph) { Steps = steps };
    }

    public void Dispose() => Bindings?.Dispose();

    /// <summary>Allocates the buffers of one denoising run.</summary>
    public UNetRun CreateRun(int batch, int latentHeight, int latentWidth, float[] encoderHiddenStates, int hiddenWidth, long[]? classLabels = null)
        => new(this, batch, latentHeight, latentWidth, encoderHiddenStates, hiddenWidth, classLabels);
}

/// <summary>The preallocated inputs and output of a UNet for one job: the loop writes, runs, reads — no allocation per step.</summary>
public sealed class UNetRun : IDisposable
{
    private readonly UNetModel _model;
    private readonly OrtValue _timestep;
    private readonly float[]? _timestepSingle;
    private readonly Float16[]? _timestepHalf;
    private readonly long[]? _timestepLong;
    private readonly int[]? _timestepInt;
    private readonly OrtValue _hidden;
    private readonly OrtValue? _classLabels;
    private readonly string[] _inputNames;
    private readonly OrtValue[] _inputs;
    private readonly string[] _outputNames;
    private readonly OrtValue[] _outputs;
    private readonly BoundUNet? _bound;
    private readonly bool _ownsBound;

    internal UNetRun(UNetModel model, int batch, int latentHeight, int latentWidth, float[] encoderHiddenStates, int hiddenWidth, long[]? classLabels)
    {
        _model = model;
        Batch = batch;
        Sample = new FloatTensorBuffer(model.Sample.ElementType, [batch, model.InChannels, latentHeight, latentWidth]);
        Output = new FloatTensorBuffer(model.Output.ElementType, [batch, 4, latentHeight, latentWidth]);
        _hidden = FloatTensorBuffer.Create(model.Hidden.ElementType, encoderHiddenStates, [batch, encoderHiddenStates.Length / batch / hiddenWidth, hiddenWidth]);

        // The timestep is a rank-0 scalar (optimum >= 1.24), [1] (diffusers' ONNX pipeline feeds np.array([t])) or
        // [batch]: read which from the session. A symbolic dimension gets the batch, which both broadcast and
        // expand(batch) in the exported graph accept.
        long[] tShape = model.Timestep.Rank switch
        {
            0 => [],
            _ => [model.Timestep.FixedDimension(0) ?? batch],
        };
        int tLength = tShape.Length == 0 ? 1 : (int)tShape[0];
        switch (model.Timestep.ElementType)
        {
            case TensorElementType.Float:
                _timestepSingle = new float[tLength];
                _timestep = OrtValue.CreateTensorValueFromMemory(_timestepSingle, tShape);
                break;
            case TensorElementType.Float16:
                _timestepHalf = new Float16[tLength];
                _timestep = OrtValue.CreateTensorValueFromMemory(_timestepHalf, tShape);
                break;
            case TensorElementType.Int32:
                _timestepInt = new int[tLength];
                _timestep = OrtValue.CreateTensorValueFromMemory(_timestepInt, tShape);
                break;
            default:
                _timestepLong = new long[tLength];
                _timestep = OrtValue.CreateTensorValueFromMemory(_timestepLong, tShape);
                break;
        }

        var names = new List<string> { UNetModel.SampleInput, UNetModel.TimestepInput, UNetModel.HiddenInput };
        var values = new List<OrtValue> { Sample.Value, _timestep, _hidden };
        if (model.HasClassLabels)
        {
            long[] labels = classLabels ?? new long[batch];
            _classLabels = OrtValue.CreateTensorValueFromMemory(labels, [labels.Length]);
            names.Add(UNetModel.ClassLabelsInput);
            values.Add(_classLabels);
        }

        _inputNames = [.. names];
        _inputs = [.. values];
        _outputNames = [model.OutputName];
        _outputs = [Output.Value];
        if (model.Bindings is { } bindings)
        {
            (_bound, _ownsBound) = bindings.For(batch, latentHeight, latentWidth, tShape, _hidden.GetTensorTypeAndShape().Shape);
            // What stays for the whole run goes to the device once: the prompt embeddings and class labels.
            _bound.Hidden.Upload(_hidden.GetTensorMutableRawData());
            if (_classLabels is not null)
            {
                _bound.ClassLabels!.Upload(_classLabels.GetTensorMutableRawData());
            }
        }
    }

    /// <summary>Whether this run's UNet I/O is bound (device-resident with CUDA).</summary>
    public bool Bound => _bound is not null;

    /// <summary>The bound buffers (null: plain runs).</summary>
    internal BoundUNet? BoundBuffers => _bound;

    /// <summary>The device-side step graphs, where this run's I/O is bound and the model steps on the device.</summary>
    internal LatentStepGraphs? StepGraphs => _bound is null ? null : _model.Bindings?.Steps;

    public int Batch { get; }
    public FloatTensorBuffer Sample { get; }
    public FloatTensorBuffer Output { get; }

    /// <summary>Sets the timestep of the next call. An integer timestep input truncates a fractional value, as
    /// diffusers' ONNX pipeline does when it casts to the model's timestep dtype.</summary>
    public void SetTimestep(double t)
    {
        if (_timestepSingle is not null)
        {
            Array.Fill(_timestepSingle, (float)t);
        }
        else if (_timestepHalf is not null)
        {
            Array.Fill(_timestepHalf, (Float16)(float)t);
        }
        else if (_timestepInt is not null)
        {
            Array.Fill(_timestepInt, (int)t);
        }
        else
        {
            Array.Fill(_timestepLong!, (long)t);
        }
    }

    public void Run()
    {
        if (_bound is null)
        {
            _model.Component.Run(_inputNames, _inputs, _outputNames, _outputs);
            return;
        }

        // Per step only the latents go in and the prediction comes out: the scheduler runs on the CPU.
        _bound.Sample.Upload(Sample.Value.GetTensorMutableRawData());
        _bound.Timestep.Upload(_timestep.GetTensorMutableRawData());
        _bound.Memory.Synchronize();
        _model.Component.Run(_bound.Binding, _bound.RunOptions);
        _bound.Output.Download(Output.Value.GetTensorMutableRawData());
    }

    /// <summary>Runs on what is already in the bound buffers (the device-stepped loop wrote the sample there): only
    /// the timestep goes in, nothing comes out.</summary>
    internal void RunResident()
    {
        var bound = _bound ?? throw new InvalidOperationException("RunResident needs bound I/O.");
        bound.Timestep.Upload(_timestep.GetTensorMutableRawData());
        bound.Memory.Synchronize();
        _model.Component.Run(bound.Binding, bound.RunOptions);
    }

    public void Dispose()
    {
        Sample.Dispose();
        Output.Dispose();
        _timestep.Dispose();
        _hidden.Dispose();
        _classLabels?.Dispose();
        if (_ownsBound)
        {
            _bound!.Dispose();
        }
    }
}
