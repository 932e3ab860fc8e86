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
    /// <summary>The largest data.pkl read: a state dict's pickle holds names and shapes only (ResNet-152's is
    /// about 100 KB), so this refuses inflated or padded pickles long before memory runs short.</summary>
    public const int MaxPickleBytes = 64 << 20;

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
        if (byteOrder is not null && ReadAll(byteOrder, 16).AsSpan().SequenceEqual("big"u8))
            throw new WeightFormatException("big-endian file (only little-endian files are read)");

        Root = RestrictedUnpickler.Load(ReadAll(pickleEntry, MaxPickleBytes), StorageFromPersistentId);
    }

    private static object StorageFromPersistentId(object[] pid)
    {
        if (pid.Length < 5 || RestrictedUnpickler.ToText(pid[0], "persistent id kind") != "storage")
            throw new WeightFormatException("persistent id is not a storage");
        return new StorageRef(
            RestrictedUnpickler.ToText(pid[2], "storage key"),
            RestrictedUnpickler.StorageDType(pid[1]),
            RestrictedUnpickler.StorageSize(pid[4]));
    }

    public Tensor Load(StorageRef storage)
    {
        var entry = _archive.GetEntry(_prefix + "data/" + storage.Key)
            ?? throw new WeightFormatException($"storage {storage.Key} is missing from the archive");
        long elementSize = StorageBytes.ElementSize(storage.DType);
        // Checked before allocating, and by division: the declared count may be anything.
        if (storage.NumElements > entry.Length / elementSize)
            throw new WeightFormatException($"storage {storage.Key} holds {entry.Length} bytes, {storage.NumElements} elements of {elementSize} bytes declared");
        long byteCount = storage.NumElements * elementSize;
        var storageTensor = empty(storage.NumElements, storage.DType);
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

    /// <summary>The entry's bytes, refused beyond <paramref name="limit"/> whatever its header declares
    /// (a compressed entry may inflate to far more than its header says).</summary>
    private static byte[] ReadAll(ZipArchiveEntry entry, int limit)
    {
        if (entry.Length > limit)
            throw new WeightFormatException($"{entry.FullName} declares {entry.Length} bytes, more than the {limit} a state dict's pickle needs");
        using var stream = OpenEntry(entry);
        var buffer = new MemoryStream();
        var chunk = new byte[81920];
        for (int read; (read = stream.Read(chunk)) > 0;)
        {
            if (buffer.Length + read > limit)
                throw new WeightFormatException($"{entry.FullName} inflates beyond {limit} bytes (a zip bomb, or not a state dict)");
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    public void Dispose() => _archive.Dispose();
}
