using System.Runtime.InteropServices;
using System.Text;

namespace ShiftBench.Output;

/// <summary>
/// A 2-D float32 (or float16, `run --features fp16`) .npy file of known shape [rows, cols], written row block by
/// row block at any offset, so a run can resume by rewriting only unfinished rows. Rows are float32 in memory;
/// a float16 file stores each value rounded to the nearest half. The header is NumPy's format 1.0.
/// </summary>
public sealed class NpyRowFile : IDisposable
{
    public const string Float32 = "<f4";
    public const string Float16 = "<f2";

    readonly FileStream stream;
    readonly long headerLength;
    public long Rows { get; }
    public long Cols { get; }
    /// <summary>The dtype on disk: <see cref="Float32"/> or <see cref="Float16"/>.</summary>
    public string Descr { get; }
    int ValueBytes => Descr == Float16 ? 2 : sizeof(float);
    Half[] halves = [];

    NpyRowFile(FileStream stream, long headerLength, long rows, long cols, string descr = Float32)
    {
        this.stream = stream; this.headerLength = headerLength; Rows = rows; Cols = cols; Descr = descr;
    }

    public static byte[] Header(string descr, params long[] shape)
    {
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        int unpadded = 10 + dict.Length + 1;
        int total = (unpadded + 63) / 64 * 64;
        var header = new byte[total];
        header[0] = 0x93;
        Encoding.ASCII.GetBytes("NUMPY").CopyTo(header, 1);
        header[6] = 1; header[7] = 0;
        BitConverter.GetBytes((ushort)(total - 10)).CopyTo(header, 8);
        Encoding.ASCII.GetBytes(dict.PadRight(total - 11)).CopyTo(header, 10);
        header[^1] = (byte)'\n';
        return header;
    }

    /// <summary>Creates the file with its full size, or reopens one of the same shape to continue it.</summary>
    public static NpyRowFile OpenOrCreate(string path, long rows, long cols, bool keepExisting, string descr = Float32)
    {
        if (descr is not (Float32 or Float16)) throw new ArgumentException($"unsupported dtype {descr}", nameof(descr));
        byte[] header = Header(descr, rows, cols);
        long length = header.Length + rows * cols * (descr == Float16 ? 2 : sizeof(float));
        var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        bool reuse = keepExisting && stream.Length == length && StartsWith(stream, header);
        if (!reuse)
        {
            stream.SetLength(0);
            stream.Write(header);
            stream.SetLength(length);
        }
        return new NpyRowFile(stream, header.Length, rows, cols, descr);
    }

    /// <summary>Opens an existing 2-D float32 or float16 .npy file for reading rows (float16 values are widened exactly).</summary>
    public static NpyRowFile OpenRead(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var (descr, shape, headerLength) = ReadHeader(stream, path);
        if (descr is not (Float32 or Float16) || shape.Length != 2)
        {
            stream.Dispose();
            throw new InvalidDataException($"{path} is not a 2-D float32 or float16 .npy file");
        }
        return new NpyRowFile(stream, headerLength, shape[0], shape[1], descr);
    }

    /// <summary>Reads a format 1.0 header: dtype descr, shape, and where the data starts.</summary>
    public static (string Descr, long[] Shape, long HeaderLength) ReadHeader(Stream stream, string path)
    {
        var prefix = new byte[10];
        stream.ReadExactly(prefix);
        if (prefix[0] != 0x93 || Encoding.ASCII.GetString(prefix, 1, 5) != "NUMPY" || prefix[6] != 1)
            throw new InvalidDataException($"{path} is not a NumPy format 1.0 .npy file");
        var header = new byte[BitConverter.ToUInt16(prefix, 8)];
        stream.ReadExactly(header);
        string text = Encoding.ASCII.GetString(header);
        if (text.Contains("'fortran_order': True")) throw new InvalidDataException($"{path} is in Fortran order; save it in C order");
        string descr = text[(text.IndexOf("'descr': '", StringComparison.Ordinal) + 10)..];
        descr = descr[..descr.IndexOf('\'')];
        string shape = text[(text.IndexOf("'shape': (", StringComparison.Ordinal) + 10)..];
        var dims = shape[..shape.IndexOf(')')].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse).ToArray();
        return (descr, dims, prefix.Length + header.Length);
    }

    static bool StartsWith(FileStream stream, byte[] header)
    {
        var existing = new byte[header.Length];
        stream.Position = 0;
        return stream.Read(existing) == header.Length && existing.AsSpan().SequenceEqual(header);
    }

    public void WriteRows(long firstRow, ReadOnlySpan<float> values)
    {
        if (values.Length % Cols != 0 || firstRow + values.Length / Cols > Rows)
            throw new ArgumentOutOfRangeException(nameof(values), "rows do not fit the file");
        stream.Position = headerLength + firstRow * Cols * ValueBytes;
        if (Descr == Float32) { stream.Write(MemoryMarshal.AsBytes(values)); return; }
        var half = Halves(values.Length);
        for (int i = 0; i < values.Length; i++) half[i] = (Half)values[i]; // round to nearest even, as NumPy's astype(float16)
        stream.Write(MemoryMarshal.AsBytes(half.AsSpan(0, values.Length)));
    }

    public void ReadRows(long firstRow, Span<float> destination)
    {
        stream.Position = headerLength + firstRow * Cols * ValueBytes;
        if (Descr == Float32) { stream.ReadExactly(MemoryMarshal.AsBytes(destination)); return; }
        var half = Halves(destination.Length);
        stream.ReadExactly(MemoryMarshal.AsBytes(half.AsSpan(0, destination.Length)));
        for (int i = 0; i < destination.Length; i++) destination[i] = (float)half[i];
    }

    Half[] Halves(int length) => halves.Length >= length ? halves : halves = new Half[length];

    /// <summary>Forces written rows to disk before the run records them as done.</summary>
    public void Flush() => stream.Flush(flushToDisk: true);

    public void Dispose() => stream.Dispose();
}
