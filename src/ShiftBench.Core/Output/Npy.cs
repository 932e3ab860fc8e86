using System.Runtime.InteropServices;
using System.Text;

namespace ShiftBench.Output;

/// <summary>
/// Whole-array .npy files (NumPy format 1.0, little-endian, C order) for float32 and int64.
/// Row-by-row writing of large feature files is <see cref="NpyRowFile"/>; both share <see cref="NpyRowFile.Header"/>.
/// </summary>
public static class Npy
{
    public static void Write(string path, float[] data, params long[] shape) => Write<float>(path, "<f4", data, shape);

    public static void Write(string path, long[] data, params long[] shape) => Write<long>(path, "<i8", data, shape);

    public static (float[] Data, long[] Shape) ReadFloat32(string path) => Read<float>(path, "<f4");

    public static (long[] Data, long[] Shape) ReadInt64(string path) => Read<long>(path, "<i8");

    static void Write<T>(string path, string descr, T[] data, long[] shape) where T : unmanaged
    {
        if (shape.Aggregate(1L, (a, b) => a * b) != data.LongLength)
            throw new ArgumentException($"shape ({string.Join(", ", shape)}) does not hold {data.LongLength} values");
        using var file = File.Create(path);
        file.Write(NpyRowFile.Header(descr, shape));
        file.Write(MemoryMarshal.AsBytes(data.AsSpan()));
    }

    static (T[] Data, long[] Shape) Read<T>(string path, string descr) where T : unmanaged
    {
        using var file = File.OpenRead(path);
        var (foundDescr, shape, _) = NpyRowFile.ReadHeader(file, path);
        if (foundDescr != descr)
            throw new InvalidDataException($"{path} holds '{foundDescr}' values, expected '{descr}'");
        var data = new T[shape.Aggregate(1L, (a, b) => a * b)];
        file.ReadExactly(MemoryMarshal.AsBytes(data.AsSpan()));
        return (data, shape);
    }
}
