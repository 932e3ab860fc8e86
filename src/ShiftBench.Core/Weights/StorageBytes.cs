using static TorchSharp.torch;

namespace ShiftBench.Weights;

/// <summary>Where the raw bytes of the storages named by persistent ids come from.</summary>
internal interface IStorageSource
{
    /// <summary>The whole storage as a 1-D tensor of its own element type.</summary>
    Tensor Load(StorageRef storage);
}

internal static class StorageBytes
{
    /// <summary>Bytes per element of a storage type.</summary>
    public static long ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        _ => 1,
    };

    /// <summary>Copies exactly <paramref name="byteCount"/> little-endian bytes from the stream into the
    /// (contiguous, 1-D) tensor.</summary>
    public static void Fill(Tensor storage, Stream data, long byteCount)
    {
        if (byteCount > Array.MaxLength)
            throw new WeightFormatException($"storage of {byteCount} bytes is larger than this reader handles");
        var buffer = new byte[byteCount];
        try
        {
            data.ReadExactly(buffer);
        }
        catch (EndOfStreamException e)
        {
            throw new WeightFormatException("file ends inside a storage's bytes", e);
        }
        storage.bytes = buffer;
    }
}
