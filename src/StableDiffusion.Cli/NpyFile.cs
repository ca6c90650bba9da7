using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;

namespace StableDiffusion.Cli;

/// <summary>
/// Reads NumPy .npy files (format 1.0–3.0) holding little-endian float32 in C order — what <c>np.save</c> writes for
/// diffusers' <c>latents=</c> tensors. Written by hand: the format is one header line and raw data, and no package here
/// reads it.
/// </summary>
public static partial class NpyFile
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static (float[] Data, int[] Shape) ReadFloat32(string path, long maxValues)
    {
        using var stream = File.OpenRead(path);
        Span<byte> prefix = stackalloc byte[10];
        stream.ReadExactly(prefix[..8]);
        if (!prefix[..6].SequenceEqual(Magic))
        {
            throw new UsageException($"'{path}' is not a .npy file");
        }

        int major = prefix[6];
        int headerLength;
        if (major == 1)
        {
            stream.ReadExactly(prefix[..2]);
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(prefix);
        }
        else if (major is 2 or 3)
        {
            stream.ReadExactly(prefix[..4]);
            headerLength = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(prefix));
        }
        else
        {
            throw new UsageException($"'{path}': unsupported .npy version {major}");
        }

        if (headerLength > 65536)
        {
            throw new UsageException($"'{path}': .npy header too large");
        }

        var header = new byte[headerLength];
        stream.ReadExactly(header);
        string text = Encoding.Latin1.GetString(header);
        var descr = DescrPattern().Match(text);
        if (!descr.Success || descr.Groups[1].Value is not ("<f4" or "|f4" or "=f4"))
        {
            throw new UsageException($"'{path}' must hold little-endian float32 ('<f4'), header: {text.Trim()}");
        }

        if (FortranPattern().IsMatch(text))
        {
            throw new UsageException($"'{path}' must be in C order (fortran_order False)");
        }

        var shapeMatch = ShapePattern().Match(text);
        if (!shapeMatch.Success)
        {
            throw new UsageException($"'{path}': no shape in the .npy header");
        }

        int[] shape = shapeMatch.Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture))
            .ToArray();
        long count = 1;
        foreach (int d in shape)
        {
            count = checked(count * d);
        }

        if (count > maxValues)
        {
            throw new UsageException($"'{path}' holds {count} values, more than the {maxValues} expected");
        }

        var bytes = new byte[count * 4];
        stream.ReadExactly(bytes);
        var data = new float[count];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4, 4));
        }

        return (data, shape);
    }

    /// <summary>Writes float32 data as a version 1.0 .npy file (tests and tools).</summary>
    public static void WriteFloat32(string path, ReadOnlySpan<float> data, int[] shape)
    {
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        string header = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({dims}), }}";
        int total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        using var stream = File.Create(path);
        stream.Write(Magic);
        stream.Write([1, 0]);
        Span<byte> len = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)header.Length);
        stream.Write(len);
        stream.Write(Encoding.Latin1.GetBytes(header));
        Span<byte> value = stackalloc byte[4];
        foreach (float f in data)
        {
            BinaryPrimitives.WriteSingleLittleEndian(value, f);
            stream.Write(value);
        }
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*True")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
