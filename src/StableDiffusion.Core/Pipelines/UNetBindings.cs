using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using StableDiffusion.Core.Models;

namespace StableDiffusion.Core.Pipelines;

/// <summary>
/// The UNet's device-resident I/O: per shape (batch, latent size, prompt length), one set of bound tensors and one I/O
/// binding, made on the shape's first use and kept, so buffers stay at the same device addresses from job to job (what
/// a CUDA graph replays against). Shapes beyond <see cref="MaxShapes"/> still bind, without a graph, and are freed after
/// their run.
/// </summary>
public sealed class UNetBindings(UNetModel model, DeviceMemory memory, bool cudaGraph) : IDisposable
{
    /// <summary>Shapes kept bound (and captured, with CUDA graphs): a server sees a handful of sizes and batches.</summary>
    public const int MaxShapes = 8;

    private readonly Dictionary<ShapeKey, BoundUNet> _shapes = [];

    public DeviceMemory Memory => memory;
    public bool CudaGraph => cudaGraph;

    /// <summary>The graphs that guide and step on the device (null: the scheduler runs on the host, see <see cref="DeviceSteps"/>).</summary>
    internal LatentStepGraphs? Steps { get; init; }

    /// <summary>The binding of one shape; <c>Owned</c> = the caller disposes it after its run (not kept).</summary>
    internal (BoundUNet Bound, bool Owned) For(int batch, int latentHeight, int latentWidth, long[] timestepShape, long[] hiddenShape)
    {
        var key = new ShapeKey(batch, latentHeight, latentWidth, hiddenShape[1], hiddenShape[2]);
        lock (_shapes)
        {
            if (_shapes.TryGetValue(key, out var kept))
            {
                return (kept, false);
            }

            bool keep = _shapes.Count < MaxShapes;
            // gpu_graph_id: 0.. one graph per kept shape; -1 runs a shape without capturing it.
            int graphId = cudaGraph && keep ? _shapes.Count : -1;
            var bound = new BoundUNet(model, memory, batch, latentHeight, latentWidth, timestepShape, hiddenShape, cudaGraph ? graphId : null);
            if (keep)
            {
                _shapes[key] = bound;
            }

            return (bound, !keep);
        }
    }

    public void Dispose()
    {
        lock (_shapes)
        {
            foreach (var bound in _shapes.Values)
            {
                bound.Dispose();
            }

            _shapes.Clear();
        }

        Steps?.Dispose();
    }

    private readonly record struct ShapeKey(int Batch, int Height, int Width, long Tokens, long HiddenWidth);
}

/// <summary>The bound tensors and I/O binding of one UNet shape.</summary>
internal sealed class BoundUNet : IDisposable
{
    private readonly List<BoundTensor> _tensors = [];

    public BoundUNet(UNetModel model, DeviceMemory memory, int batch, int latentHeight, int latentWidth, long[] timestepShape,
        long[] hiddenShape, int? graphId)
    {
        Memory = memory;
        SampleType = model.Sample.ElementType;
        OutputType = model.Output.ElementType;
        try
        {
            Sample = Add(memory.Allocate(model.Sample.ElementType, [batch, model.InChannels, latentHeight, latentWidth]));
            Timestep = Add(memory.Allocate(model.Timestep.ElementType, timestepShape));
            Hidden = Add(memory.Allocate(model.Hidden.ElementType, hiddenShape));
            Output = Add(memory.Allocate(model.Output.ElementType, [batch, 4, latentHeight, latentWidth]));
            ClassLabels = model.HasClassLabels ? Add(memory.Allocate(TensorElementType.Int64, [batch])) : null;
            Binding = model.Component.CreateIoBinding();
            Binding.BindInput(UNetModel.SampleInput, Sample.Value);
            Binding.BindInput(UNetModel.TimestepInput, Timestep.Value);
            Binding.BindInput(UNetModel.HiddenInput, Hidden.Value);
            if (ClassLabels is not null)
            {
                Binding.BindInput(UNetModel.ClassLabelsInput, ClassLabels.Value);
            }

            Binding.BindOutput(model.OutputName, Output.Value);
            RunOptions = new RunOptions();
            if (graphId is int id)
            {
                RunOptions.AddRunConfigEntry("gpu_graph_id", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public DeviceMemory Memory { get; }
    public TensorElementType SampleType { get; }
    public TensorElementType OutputType { get; }
    public BoundTensor Sample { get; } = null!;
    public BoundTensor Timestep { get; } = null!;
    public BoundTensor Hidden { get; } = null!;
    public BoundTensor Output { get; } = null!;
    public BoundTensor? ClassLabels { get; }
    public OrtIoBinding Binding { get; } = null!;
    public RunOptions RunOptions { get; } = null!;

    private BoundTensor Add(BoundTensor tensor)
    {
        _tensors.Add(tensor);
        return tensor;
    }

    public void Dispose()
    {
        RunOptions?.Dispose();
        Binding?.Dispose();
        foreach (var tensor in _tensors)
        {
            tensor.Dispose();
        }
    }
}
