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
