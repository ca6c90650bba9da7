using System.Runtime.InteropServices;
using System.Numerics.Tensors;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace StableDiffusion.Core.Models;

/// <summary>
/// A preallocated floating-point tensor in the element type a session wants (float32 or float16), wrapped once in an
/// <see cref="OrtValue"/> so the denoising loop feeds and reads it without allocating. Callers always see float32.
/// </summary>
public sealed class FloatTensorBuffer : IDisposable
{
    private readonly float[]? _single;
    private readonly Float16[]? _half;

    public FloatTensorBuffer(TensorElementType elementType, long[] shape)
    {
        Shape = shape;
        long length = 1;
        foreach (long d in shape)
        {
            length = checked(length * d);
        }

        Length = checked((int)length);
        switch (elementType)
        {
            case TensorElementType.Float:
                _single = new float[Length];
                Value = OrtValue.CreateTensorValueFromMemory(_single, shape);
                break;
            case TensorElementType.Float16:
                _half = new Float16[Length];
                Value = OrtValue.CreateTensorValueFromMemory(_half, shape);
                break;
            default:
                throw new ModelLoadException($"Expected a float32 or float16 tensor, found {elementType}.");
        }
    }

    public long[] Shape { get; }
    public int Length { get; }
    public OrtValue Value { get; }

    /// <summary>Direct float32 storage when the tensor is float32 (write into it without a copy); null for float16.</summary>
    public Span<float> SingleSpan => _single;

    public void Write(ReadOnlySpan<float> source, int offset = 0)
    {
        if (_single is not null)
        {
            source.CopyTo(_single.AsSpan(offset));
        }
        else
        {
            TensorPrimitives.ConvertToHalf(source, MemoryMarshal.Cast<Float16, Half>(_half.AsSpan(offset, source.Length)));
        }
    }

    public void Read(Span<float> destination, int offset = 0)
    {
        if (_single is not null)
        {
            _single.AsSpan(offset, destination.Length).CopyTo(destination);
        }
        else
        {
            TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<Float16, Half>(_half.AsSpan(offset, destination.Length)), destination);
        }
    }

    /// <summary>Copies a float32 or float16 tensor (e.g. an output ONNX Runtime allocated) into float32.</summary>
    public static void ReadValue(OrtValue value, Span<float> destination)
    {
        var type = value.GetTensorTypeAndShape().ElementDataType;
        if (type == TensorElementType.Float)
        {
            value.GetTensorDataAsSpan<float>()[..destination.Length].CopyTo(destination);
        }
        else if (type == TensorElementType.Float16)
        {
            TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<Float16, Half>(value.GetTensorDataAsSpan<Float16>()[..destination.Length]), destination);
        }
        else
        {
            throw new InvalidOperationException($"Expected a float32 or float16 output, found {type}.");
        }
    }

    /// <summary>A one-off float tensor (float32 or float16) from float32 data.</summary>
    public static OrtValue Create(TensorElementType elementType, ReadOnlySpan<float> data, long[] shape)
    {
        if (elementType == TensorElementType.Float)
        {
            return OrtValue.CreateTensorValueFromMemory(data.ToArray(), shape);
        }

        if (elementType == TensorElementType.Float16)
        {
            var half = new Float16[data.Length];
            TensorPrimitives.ConvertToHalf(data, MemoryMarshal.Cast<Float16, Half>(half.AsSpan()));
            return OrtValue.CreateTensorValueFromMemory(half, shape);
        }

        throw new ModelLoadException($"Expected a float32 or float16 tensor, found {elementType}.");
    }

    public void Dispose() => Value.Dispose();
}
