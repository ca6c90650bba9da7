using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;

namespace StableDiffusion.Core.Models;

/// <summary>
/// One ONNX model of a folder (text encoder, UNet, VAE …): the session, its input/output metadata read once at
/// load time, and a running total of the time spent inside ONNX Runtime.
/// </summary>
public sealed class OnnxComponent : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private long _runTicks;
    private long _runCount;

    private OnnxComponent(string name, string path, InferenceSession session)
    {
        Name = name;
        Path = path;
        _session = session;
        Inputs = session.InputMetadata.ToDictionary(p => p.Key, p => TensorSpec.From(p.Key, p.Value));
        Outputs = session.OutputMetadata.ToDictionary(p => p.Key, p => TensorSpec.From(p.Key, p.Value));
        InputNames = [.. session.InputNames];
        OutputNames = [.. session.OutputNames];
    }

    public string Name { get; }
    public string Path { get; }
    public IReadOnlyDictionary<string, TensorSpec> Inputs { get; }
    public IReadOnlyDictionary<string, TensorSpec> Outputs { get; }
    public IReadOnlyList<string> InputNames { get; }
    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>Seconds spent in <c>Run</c> since load.</summary>
    public double RunSeconds => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _runTicks)).TotalSeconds;

    /// <summary>Calls of <c>Run</c> since load.</summary>
    public long RunCount => Interlocked.Read(ref _runCount);

    /// <summary>Opens <paramref name="path"/>; ONNX Runtime resolves external data (<c>model.onnx_data</c>) relative to it.</summary>
    public static OnnxComponent Open(string name, string path, SessionOptions options, string provider = "cpu")
    {
        try
        {
            return new OnnxComponent(name, path, new InferenceSession(path, options));
        }
        catch (OnnxRuntimeException ex) when (provider == "cpu" && MissingCpuKernel(ex.Message) is { } op)
        {
            throw new ModelLoadException(
                $"{name}: '{path}' uses the operator {op}, which only ONNX Runtime's CUDA execution provider implements: the model was optimised for CUDA (e.g. by ONNX Runtime's optimize_pipeline.py, with float16 I/O and contrib operators). Run it with ExecutionProvider=cuda on a GPU, or use an unoptimised export on the CPU.", ex);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelLoadException($"{name}: ONNX Runtime could not load '{path}': {ex.Message}", ex);
        }
    }

    /// <summary>A model built in memory (the device-side scheduler step's graphs); <paramref name="name"/> is its path too.</summary>
    public static OnnxComponent FromModel(string name, byte[] model, SessionOptions options, string provider)
    {
        try
        {
            return new OnnxComponent(name, name, new InferenceSession(model, options));
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelLoadException($"{name}: ONNX Runtime could not load the generated graph on the {provider} provider: {ex.Message}", ex);
        }
    }

    /// <summary>The operator of ONNX Runtime's "Failed to find kernel for com.microsoft.X(1)" (or, in older versions,
    /// "Could not find an implementation for X(1) node") error; null for any other error.</summary>
    private static string? MissingCpuKernel(string message)
    {
        foreach (var (marker, end) in new[] { ("Failed to find kernel for ", "("), ("Could not find an implementation for ", " node") })
        {
            int at = message.IndexOf(marker, StringComparison.Ordinal);
            if (at >= 0)
            {
                int start = at + marker.Length;
                int stop = message.IndexOf(end, start, StringComparison.Ordinal);
                return stop > start ? message[start..stop] : message[start..].Trim();
            }
        }

        return null;
    }

    /// <summary>An I/O binding on this session (device-resident inputs and outputs).</summary>
    public OrtIoBinding CreateIoBinding() => _session.CreateIoBinding();

    /// <summary>Runs with the values bound to <paramref name="binding"/>.</summary>
    public void Run(OrtIoBinding binding, RunOptions? runOptions = null)
    {
        long start = Stopwatch.GetTimestamp();
        _session.RunWithBinding(runOptions ?? _runOptions, binding);
        Interlocked.Add(ref _runTicks, Stopwatch.GetTimestamp() - start);
        Interlocked.Increment(ref _runCount);
    }

    public TensorSpec Input(string name) =>
        Inputs.TryGetValue(name, out var spec)
            ? spec
            : throw new ModelLoadException($"{Name}: '{Path}' has no input '{name}' (inputs: {string.Join(", ", InputNames)}).");

    public TensorSpec Output(string name) =>
        Outputs.TryGetValue(name, out var spec)
            ? spec
            : throw new ModelLoadException($"{Name}: '{Path}' has no output '{name}' (outputs: {string.Join(", ", OutputNames)}).");

    public bool HasInput(string name) => Inputs.ContainsKey(name);

    public bool HasOutput(string name) => Outputs.ContainsKey(name);

    /// <summary>Runs with caller-owned input and output values (no allocation by ONNX Runtime for outputs).</summary>
    public void Run(IReadOnlyCollection<string> inputNames, IReadOnlyCollection<OrtValue> inputs,
        IReadOnlyCollection<string> outputNames, IReadOnlyCollection<OrtValue> outputs)
    {
        long start = Stopwatch.GetTimestamp();
        _session.Run(_runOptions, inputNames, inputs, outputNames, outputs);
        Interlocked.Add(ref _runTicks, Stopwatch.GetTimestamp() - start);
        Interlocked.Increment(ref _runCount);
    }

    /// <summary>Runs and lets ONNX Runtime allocate the outputs; the caller disposes them.</summary>
    public IDisposableReadOnlyCollection<OrtValue> Run(IReadOnlyCollection<string> inputNames, IReadOnlyCollection<OrtValue> inputs,
        IReadOnlyCollection<string> outputNames)
    {
        long start = Stopwatch.GetTimestamp();
        var result = _session.Run(_runOptions, inputNames, inputs, outputNames);
        Interlocked.Add(ref _runTicks, Stopwatch.GetTimestamp() - start);
        Interlocked.Increment(ref _runCount);
        return result;
    }

    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }
}
