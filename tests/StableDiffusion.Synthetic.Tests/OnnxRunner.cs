using Microsoft.ML.OnnxRuntime;

namespace StableDiffusion.Synthetic.Tests;

/// <summary>One output of a run, converted to float32 whatever its element type.</summary>
internal sealed record RunOutput(long[] Shape, float[] Values, Type ElementType);

/// <summary>Runs a model on CPU with inputs built from the session's own metadata.</summary>
internal static class OnnxRunner
{
    public static InferenceSession Open(string modelPath)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        return new InferenceSession(modelPath, options);
    }

    /// <summary>Runs the model; each input is given as its shape and float32 values, converted to the declared element type.</summary>
    public static Dictionary<string, RunOutput> Run(InferenceSession session, IReadOnlyDictionary<string, (long[] Shape, float[] Values)> inputs)
    {
        var names = new List<string>();
        var values = new List<OrtValue>();
        try
        {
            foreach ((string name, NodeMetadata metadata) in session.InputMetadata)
            {
                (long[] shape, float[] data) = inputs[name];
                names.Add(name);
                values.Add(CreateValue(metadata.ElementType, shape, data));
            }
            string[] outputNames = [.. session.OutputMetadata.Keys];
            using var runOptions = new RunOptions();
            using IDisposableReadOnlyCollection<OrtValue> results = session.Run(runOptions, names, values, outputNames);
            var outputs = new Dictionary<string, RunOutput>();
            for (int i = 0; i < outputNames.Length; i++)
            {
                outputs[outputNames[i]] = ReadValue(results[i], session.OutputMetadata[outputNames[i]].ElementType);
            }
            return outputs;
        }
        finally
        {
            foreach (OrtValue value in values)
            {
                value.Dispose();
            }
        }
    }

    private static OrtValue CreateValue(Type elementType, long[] shape, float[] data)
    {
        if (elementType == typeof(float))
        {
            return OrtValue.CreateTensorValueFromMemory(data, shape);
        }
        if (elementType == typeof(Float16))
        {
            return OrtValue.CreateTensorValueFromMemory(data.Select(v => (Float16)v).ToArray(), shape);
        }
        if (elementType == typeof(long))
        {
            return OrtValue.CreateTensorValueFromMemory(data.Select(v => (long)v).ToArray(), shape);
        }
        if (elementType == typeof(int))
        {
            return OrtValue.CreateTensorValueFromMemory(data.Select(v => (int)v).ToArray(), shape);
        }
        throw new NotSupportedException($"Input element type {elementType}.");
    }

    private static RunOutput ReadValue(OrtValue value, Type elementType)
    {
        long[] shape = value.GetTensorTypeAndShape().Shape;
        float[] values;
        if (elementType == typeof(float))
        {
            values = value.GetTensorDataAsSpan<float>().ToArray();
        }
        else if (elementType == typeof(Float16))
        {
            ReadOnlySpan<Float16> halves = value.GetTensorDataAsSpan<Float16>();
            values = new float[halves.Length];
            for (int i = 0; i < halves.Length; i++)
            {
                values[i] = (float)halves[i];
            }
        }
        else if (elementType == typeof(bool))
        {
            values = [.. value.GetTensorDataAsSpan<bool>().ToArray().Select(b => b ? 1f : 0f)];
        }
        else
        {
            throw new NotSupportedException($"Output element type {elementType}.");
        }
        return new RunOutput(shape, values, elementType);
    }

    /// <summary>Deterministic values in [-1, 1).</summary>
    public static float[] Pattern(long count, int salt = 0)
    {
        var values = new float[count];
        var random = new Random(1234 + salt);
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(random.NextDouble() * 2 - 1);
        }
        return values;
    }
}
