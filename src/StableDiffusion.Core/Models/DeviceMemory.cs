using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace StableDiffusion.Core.Models;

/// <summary>
/// Where the tensors of an I/O binding live: CUDA device memory, or host memory (the CPU provider; it runs the very
/// same binding code, which is how the tests check the bound path against the plain one).
/// </summary>
public abstract class DeviceMemory
{
    private long _bytesIn;
    private long _bytesOut;

    /// <summary>Bytes copied from the host into this memory so far (what the tests count per step).</summary>
    public long BytesIn => Interlocked.Read(ref _bytesIn);

    /// <summary>Bytes copied from this memory to the host so far.</summary>
    public long BytesOut => Interlocked.Read(ref _bytesOut);

    internal void CountIn(long bytes) => Interlocked.Add(ref _bytesIn, bytes);

    internal void CountOut(long bytes) => Interlocked.Add(ref _bytesOut, bytes);

    /// <summary>ONNX Runtime's name for the memory (what a bound value says it is).</summary>
    public abstract OrtMemoryInfo Info { get; }

    /// <summary>A tensor of <paramref name="type"/> and <paramref name="shape"/> in this memory.</summary>
    public BoundTensor Allocate(TensorElementType type, long[] shape)
    {
        long count = 1;
        foreach (long d in shape)
        {
            count = checked(count * d);
        }

        long bytes = checked(count * ElementSize(type));
        IntPtr pointer = AllocateBytes(Math.Max(bytes, 1));
        try
        {
            return new BoundTensor(this, OrtValue.CreateTensorValueWithData(Info, type, shape, pointer, bytes), pointer, bytes);
        }
        catch
        {
            Free(pointer);
            throw;
        }
    }

    internal abstract IntPtr AllocateBytes(long bytes);
    internal abstract void Free(IntPtr pointer);
    internal abstract void CopyIn(IntPtr destination, ReadOnlySpan<byte> source);
    internal abstract void CopyOut(Span<byte> destination, IntPtr source);

    /// <summary>Waits until the copies in are visible to the provider's kernels.</summary>
    public abstract void Synchronize();

    internal static int ElementSize(TensorElementType type) => type switch
    {
        TensorElementType.Float or TensorElementType.Int32 => 4,
        TensorElementType.Float16 or TensorElementType.BFloat16 => 2,
        TensorElementType.Int64 or TensorElementType.Double => 8,
        _ => throw new NotSupportedException($"Binding a {type} tensor is not supported."),
    };
}

/// <summary>A tensor in <see cref="DeviceMemory"/>, wrapped once in an <see cref="OrtValue"/> for the binding.</summary>
public sealed class BoundTensor : IDisposable
{
    private readonly DeviceMemory _memory;
    private IntPtr _pointer;

    internal BoundTensor(DeviceMemory memory, OrtValue value, IntPtr pointer, long bytes)
    {
        _memory = memory;
        Value = value;
        _pointer = pointer;
        Bytes = bytes;
    }

    public OrtValue Value { get; }
    public long Bytes { get; }

    public void Upload(ReadOnlySpan<byte> source)
    {
        if (source.Length != Bytes)
        {
            throw new ArgumentException($"Upload of {source.Length} bytes into a {Bytes}-byte tensor.");
        }

        _memory.CopyIn(_pointer, source);
        _memory.CountIn(source.Length);
    }

    public void Download(Span<byte> destination)
    {
        if (destination.Length != Bytes)
        {
            throw new ArgumentException($"Download of a {Bytes}-byte tensor into {destination.Length} bytes.");
        }

        _memory.CopyOut(destination, _pointer);
        _memory.CountOut(destination.Length);
    }

    /// <summary>Copies <paramref name="source"/> into the tensor's bytes from <paramref name="byteOffset"/> on.</summary>
    public void UploadAt(long byteOffset, ReadOnlySpan<byte> source)
    {
        CheckRange(byteOffset, source.Length);
        _memory.CopyIn(_pointer + (nint)byteOffset, source);
        _memory.CountIn(source.Length);
    }

    /// <summary>Copies the tensor's bytes from <paramref name="byteOffset"/> on into <paramref name="destination"/>.</summary>
    public void DownloadAt(long byteOffset, Span<byte> destination)
    {
        CheckRange(byteOffset, destination.Length);
        _memory.CopyOut(destination, _pointer + (nint)byteOffset);
        _memory.CountOut(destination.Length);
    }

    /// <summary>A value over part of this tensor's memory, with its own type and shape (the caller disposes it; it
    /// must not outlive this tensor).</summary>
    public OrtValue View(long byteOffset, TensorElementType type, long[] shape)
    {
        long bytes = DeviceMemory.ElementSize(type);
        foreach (long d in shape)
        {
            bytes = checked(bytes * d);
        }

        CheckRange(byteOffset, bytes);
        return OrtValue.CreateTensorValueWithData(_memory.Info, type, shape, _pointer + (nint)byteOffset, bytes);
    }

    private void CheckRange(long byteOffset, long length)
    {
        if (byteOffset < 0 || length < 0 || byteOffset + length > Bytes)
        {
            throw new ArgumentOutOfRangeException(nameof(byteOffset), $"Bytes {byteOffset}..{byteOffset + length} of a {Bytes}-byte tensor.");
        }
    }

    public void Dispose()
    {
        if (_pointer != IntPtr.Zero)
        {
            Value.Dispose();
            _memory.Free(_pointer);
            _pointer = IntPtr.Zero;
        }
    }
}

/// <summary>Host memory (native, so a bound tensor never moves).</summary>
public sealed class HostMemory : DeviceMemory
{
    public override OrtMemoryInfo Info => OrtMemoryInfo.DefaultInstance;

    internal override unsafe IntPtr AllocateBytes(long bytes) => (IntPtr)NativeMemory.AlignedAlloc((nuint)bytes, 64);

    internal override unsafe void Free(IntPtr pointer) => NativeMemory.AlignedFree((void*)pointer);

    internal override unsafe void CopyIn(IntPtr destination, ReadOnlySpan<byte> source) =>
        source.CopyTo(new Span<byte>((void*)destination, source.Length));

    internal override unsafe void CopyOut(Span<byte> destination, IntPtr source) =>
        new ReadOnlySpan<byte>((void*)source, destination.Length).CopyTo(destination);

    public override void Synchronize()
    {
    }
}

/// <summary>
/// CUDA device memory, through the CUDA runtime that ONNX Runtime's CUDA provider itself loads (libcudart.so.13).
/// </summary>
/// <remarks>Written by hand because ONNX Runtime's C# API allocates device tensors but copies into them only through
/// <c>OrtEnv.CopyTensors</c>, which needs an execution provider registered as a plugin library; the CUDA provider is
/// appended to session options instead. Four runtime calls are all this needs.</remarks>
public sealed class CudaMemory(int deviceId) : DeviceMemory
{
    private const string CudaRuntime = "libcudart.so.13";
    private const int HostToDevice = 1;
    private const int DeviceToHost = 2;
    private readonly OrtMemoryInfo _info = new("Cuda", OrtAllocatorType.DeviceAllocator, deviceId, OrtMemType.Default);

    public override OrtMemoryInfo Info => _info;

    internal override IntPtr AllocateBytes(long bytes)
    {
        Check(cudaSetDevice(deviceId), "cudaSetDevice");
        Check(cudaMalloc(out IntPtr pointer, (nuint)bytes), "cudaMalloc");
        return pointer;
    }

    internal override void Free(IntPtr pointer) => cudaFree(pointer);

    internal override unsafe void CopyIn(IntPtr destination, ReadOnlySpan<byte> source)
    {
        fixed (byte* p = source)
        {
            Check(cudaMemcpy(destination, (IntPtr)p, (nuint)source.Length, HostToDevice), "cudaMemcpy (to the device)");
        }
    }

    internal override unsafe void CopyOut(Span<byte> destination, IntPtr source)
    {
        fixed (byte* p = destination)
        {
            Check(cudaMemcpy((IntPtr)p, source, (nuint)destination.Length, DeviceToHost), "cudaMemcpy (from the device)");
        }
    }

    /// <summary>A pageable host-to-device copy may return before its DMA ends; ONNX Runtime's kernels run on their
    /// own stream, so wait for the device before the run.</summary>
    public override void Synchronize() => Check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");

    private static void Check(int status, string call)
    {
        if (status != 0)
        {
            throw new InvalidOperationException($"{call} failed with CUDA error {status}.");
        }
    }

    [DllImport(CudaRuntime)]
    private static extern int cudaSetDevice(int device);

    [DllImport(CudaRuntime)]
    private static extern int cudaMalloc(out IntPtr pointer, nuint size);

    [DllImport(CudaRuntime)]
    private static extern int cudaFree(IntPtr pointer);

    [DllImport(CudaRuntime)]
    private static extern int cudaMemcpy(IntPtr destination, IntPtr source, nuint count, int kind);

    [DllImport(CudaRuntime)]
    private static extern int cudaDeviceSynchronize();
}
