using System.IO.Compression;
using static TorchSharp.torch;

namespace ShiftBench.Weights;

/// <summary>
/// The zip format of torch.save (PyTorch >= 1.6): `&lt;archive&gt;/data.pkl` is the pickle, whose
/// persistent ids ('storage', storage type, key, location, element count) point at the raw
/// little-endian bytes in `&lt;archive&gt;/data/&lt;key&gt;`.
/// </summary>
internal sealed class ZipPthReader : IStorageSource, IDisposable
{
    private readonly ZipArchive _archive;
    private readonly string _prefix;

    public object Root { get; }

    public ZipPthReader(Stream stream)
    {
        try
        {
            _archive = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw new WeightFormatException($"broken zip archive ({e.Message})", e);
        }

        var pickleEntry = _archive.Entries.FirstOrDefault(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal))
            ?? throw new WeightFormatException("zip archive without data.pkl (not saved by torch.save)");
        _prefix = pickleEntry.FullName[..^"data.pkl".Length];

        var byteOrder = _archive.GetEntry(_prefix + "byteorder");
        if (byteOrder is not null && ReadAll(byteOrder).AsSpan().SequenceEqual("big"u8))
            throw new WeightFormatException("big-endian file (only little-endian files are read)");

        Root = RestrictedUnpickler.Load(ReadAll(pickleEntry), StorageFromPersistentId);
    }

    private static object StorageFromPersistentId(object[] pid)
    {
        if (pid.Length < 5 || RestrictedUnpickler.ToText(pid[0], "persistent id kind") != "storage")
            throw new WeightFormatException("persistent id is not a storage");
        return new StorageRef(
            RestrictedUnpickler.ToText(pid[2], "storage key"),
            RestrictedUnpickler.StorageDType(pid[1]),
            RestrictedUnpickler.ToLong(pid[4], "storage size"));
    }

    public Tensor Load(StorageRef storage)
    {
        var entry = _archive.GetEntry(_prefix + "data/" + storage.Key)
            ?? throw new WeightFormatException($"storage {storage.Key} is missing from the archive");
        var storageTensor = empty(storage.NumElements, storage.DType);
        long byteCount = storage.NumElements * storageTensor.ElementSize;
        if (entry.Length < byteCount)
            throw new WeightFormatException($"storage {storage.Key} holds {entry.Length} bytes, {byteCount} expected");
        using var data = OpenEntry(entry);
        StorageBytes.Fill(storageTensor, data, byteCount);
        return storageTensor;
    }

    private static Stream OpenEntry(ZipArchiveEntry entry)
    {
        try
        {
            return entry.Open();
        }
        catch (InvalidDataException e)
        {
            throw new WeightFormatException($"broken zip entry {entry.FullName} ({e.Message})", e);
        }
    }

    private static byte[] ReadAll(ZipArchiveEntry entry)
    {
        using var stream = OpenEntry(entry);
        var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }

    public void Dispose() => _archive.Dispose();
}
