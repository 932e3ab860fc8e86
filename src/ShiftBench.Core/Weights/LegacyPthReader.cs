using System.Buffers.Binary;
using System.Collections;
using System.Globalization;
using System.Numerics;
using static TorchSharp.torch;

namespace ShiftBench.Weights;

/// <summary>
/// The legacy format of torch.save (before PyTorch 1.6, or `_use_new_zipfile_serialization=False`):
/// one stream of pickles — magic number, protocol version, sys info, the object whose persistent ids
/// ('storage', storage type, root key, location, element count, view metadata) name storages, the list
/// of storage keys — then for each listed key an int64 element count and the raw little-endian bytes.
/// TorchSharp.PyBridge refuses this format, so it is read here.
/// </summary>
internal sealed class LegacyPthReader : IStorageSource
{
    private static readonly BigInteger MagicNumber =
        BigInteger.Parse("01950a86a20f9469cfc6c", NumberStyles.HexNumber);
    private const int ProtocolVersion = 1001;

    private readonly Stream _stream;
    private readonly Dictionary<string, (ScalarType DType, long NumElements)> _roots = [];
    private readonly Dictionary<string, long> _dataOffsets = [];

    public object Root { get; }

    public LegacyPthReader(Stream stream)
    {
        _stream = stream;
        if (ReadPickle() is not BigInteger magic || magic != MagicNumber)
            throw new WeightFormatException("no PyTorch magic number at the start");
        if (ReadPickle() is not int protocol || protocol != ProtocolVersion)
            throw new WeightFormatException("unknown legacy protocol version");
        if (ReadPickle() is Hashtable sysInfo && sysInfo["little_endian"] is false)
            throw new WeightFormatException("big-endian file (only little-endian files are read)");

        Root = ReadPickle();

        if (ReadPickle() is not ArrayList keys)
            throw new WeightFormatException("no storage key list after the pickled object");
        foreach (var keyObject in keys)
        {
            string key = RestrictedUnpickler.ToText(keyObject, "storage key");
            if (!_roots.TryGetValue(key, out var root))
                throw new WeightFormatException($"storage {key} is listed but never used");
            long count = ReadInt64();
            if (count != root.NumElements)
                throw new WeightFormatException($"storage {key} holds {count} elements, {root.NumElements} expected");
            _dataOffsets[key] = _stream.Position;
            long elementSize = StorageBytes.ElementSize(root.DType);
            // Compared by division: a crafted count must not overflow into a small byte count.
            if (count > (_stream.Length - _stream.Position) / elementSize)
                throw new WeightFormatException($"storage {key} declares {count} elements, more than the file holds");
            _stream.Seek(count * elementSize, SeekOrigin.Current);
        }
    }

    private object ReadPickle() => RestrictedUnpickler.Load(PickleScanner.ReadOne(_stream), StorageFromPersistentId);

    private object StorageFromPersistentId(object[] pid)
    {
        if (pid.Length < 5 || RestrictedUnpickler.ToText(pid[0], "persistent id kind") != "storage")
            throw new WeightFormatException("persistent id is not a storage");
        var dtype = RestrictedUnpickler.StorageDType(pid[1]);
        string rootKey = RestrictedUnpickler.ToText(pid[2], "storage key");
        long numElements = RestrictedUnpickler.StorageSize(pid[4]);
        if (_roots.TryGetValue(rootKey, out var known) && known != (dtype, numElements))
            throw new WeightFormatException($"storage {rootKey} is described twice, differently");
        _roots[rootKey] = (dtype, numElements);

        // Files from PyTorch < 0.4 may point into part of a storage: (view key, offset, size) in elements.
        long viewOffset = 0;
        if (pid.Length > 5 && pid[5] is object[] view)
        {
            if (view.Length != 3) throw new WeightFormatException("storage view metadata is malformed");
            viewOffset = RestrictedUnpickler.ToLong(view[1], "storage view offset");
            long viewSize = RestrictedUnpickler.ToLong(view[2], "storage view size");
            if (viewOffset < 0 || viewSize < 0 || viewOffset + viewSize > numElements)
                throw new WeightFormatException($"storage view lies outside storage {rootKey}");
        }
        return new StorageRef(rootKey, dtype, numElements, viewOffset);
    }

    public Tensor Load(StorageRef storage)
    {
        if (!_dataOffsets.TryGetValue(storage.Key, out long offset))
            throw new WeightFormatException($"storage {storage.Key} has no data in the file");
        var storageTensor = empty(storage.NumElements, storage.DType);
        _stream.Seek(offset, SeekOrigin.Begin);
        StorageBytes.Fill(storageTensor, _stream, storage.NumElements * storageTensor.ElementSize);
        return storageTensor;
    }

    private long ReadInt64()
    {
        Span<byte> bytes = stackalloc byte[8];
        try
        {
            _stream.ReadExactly(bytes);
        }
        catch (EndOfStreamException e)
        {
            throw new WeightFormatException("file ends before a storage's size", e);
        }
        return BinaryPrimitives.ReadInt64LittleEndian(bytes);
    }
}
