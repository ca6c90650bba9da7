namespace StableDiffusion.Synthetic;

/// <summary>The <c>model.onnx_data</c> file next to a model whose weights do not fit protobuf's 2 GB limit.</summary>
/// <remarks>
/// Weights are streamed here as they are generated, so building a multi-gigabyte model never holds all of them in memory.
/// Offsets of large tensors are aligned to 4096 bytes, as the onnx package's <c>save_model(..., save_as_external_data=True)</c>
/// does, which lets ONNX Runtime memory-map them.
/// </remarks>
internal sealed class ExternalDataFile : IDisposable
{
    private const int Alignment = 4096;
    private readonly FileStream _stream;
    private readonly WriteProgress _progress;

    public ExternalDataFile(string path, WriteProgress progress)
    {
        Location = Path.GetFileName(path);
        _progress = progress;
        _stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
    }

    /// <summary>The file name written into each tensor's <c>location</c> entry (relative to the model file).</summary>
    public string Location { get; }

    /// <summary>Appends <paramref name="bytes"/>; returns the offset it starts at.</summary>
    public long Append(ReadOnlySpan<byte> bytes)
    {
        long start = _stream.Position;
        long offset = start;
        if (bytes.Length >= Alignment && offset % Alignment != 0)
        {
            long padding = Alignment - offset % Alignment;
            Span<byte> zeros = stackalloc byte[(int)padding];
            zeros.Clear();
            _stream.Write(zeros);
            offset += padding;
        }
        _stream.Write(bytes);
        _progress.Add(_stream.Position - start);
        return offset;
    }

    public void Dispose() => _stream.Dispose();
}
