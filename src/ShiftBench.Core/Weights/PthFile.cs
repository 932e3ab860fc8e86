using System.Collections;
using static TorchSharp.torch;

namespace ShiftBench.Weights;

/// <summary>
/// Reads PyTorch weight files (torch.save of a state dict) without running any pickled code.
/// </summary>
public static class PthFile
{
    private const string DataParallelPrefix = "module.";

    /// <summary>
    /// The state dict in <paramref name="path"/>, in file order: floating tensors as float32, integer
    /// tensors as int64, all on the CPU and owned by the caller. Reads the zip format (PyTorch >= 1.6)
    /// and the legacy format; unwraps {"state_dict": ...} and strips DataParallel's `module.` prefix.
    /// </summary>
    public static OrderedDictionary<string, Tensor> ReadStateDict(string path)
    {
        if (!File.Exists(path))
            throw new ShiftBenchException($"weight file {path} does not exist; download it or fix the path");
        try
        {
            using var stream = Output.InputFile.OpenRead(path, "weight file");
            Span<byte> head = stackalloc byte[4];
            int headLength = stream.ReadAtLeast(head, 4, throwOnEndOfStream: false);
            stream.Position = 0;

            if (headLength == 4 && head.SequenceEqual("PK\x03\x04"u8))
            {
                using var zip = new ZipPthReader(stream);
                return Materialize(zip.Root, zip, stream.Length);
            }
            if (headLength >= 2 && head[0] == 0x80) // a pickle's PROTO opcode: the legacy format
            {
                var legacy = new LegacyPthReader(stream);
                return Materialize(legacy.Root, legacy, stream.Length);
            }
            throw new WeightFormatException("neither a torch.save zip archive nor a legacy torch.save stream");
        }
        catch (RefusedGlobalException e)
        {
            throw new ShiftBenchException(
                $"weight file {path}: {e.Message}; only tensors and ordered dicts are loaded, never pickled " +
                "code or objects; use a file saved with torch.save(model.state_dict(), ...)", e);
        }
        catch (WeightFormatException e)
        {
            throw new ShiftBenchException($"weight file {path} is truncated, corrupt or not a state dict ({e.Message}); download it again", e);
        }
        catch (InvalidDataException e) // a damaged compressed entry, found while inflating it
        {
            throw new ShiftBenchException($"weight file {path} is truncated, corrupt or not a state dict ({e.Message}); download it again", e);
        }
        catch (IOException e)
        {
            throw new ShiftBenchException($"weight file {path} cannot be read ({e.Message})", e);
        }
    }

    private static OrderedDictionary<string, Tensor> Materialize(object root, IStorageSource source, long fileLength)
    {
        var entries = StateDictEntries(root);
        CheckSizes(entries, fileLength);
        var result = new OrderedDictionary<string, Tensor>(entries.Count);
        using var scope = NewDisposeScope();
        var storages = new Dictionary<string, Tensor>();
        foreach (var (name, record) in entries)
        {
            string key = name.StartsWith(DataParallelPrefix, StringComparison.Ordinal) ? name[DataParallelPrefix.Length..] : name;
            if (result.ContainsKey(key))
                throw new WeightFormatException($"entry {key} occurs twice (with and without '{DataParallelPrefix}')");
            if (!storages.TryGetValue(record.Storage.Key, out var storage))
                storages[record.Storage.Key] = storage = source.Load(record.Storage);
            result.Add(key, Rebuild(key, record, storage).MoveToOuterDisposeScope());
        }
        return result;
    }

    /// <summary>The (name, tensor) pairs of the state dict, from the dict itself or its "state_dict" entry.</summary>
    private static List<(string Name, TensorRecord Record)> StateDictEntries(object root)
    {
        if (root is not Hashtable dict)
            throw new WeightFormatException($"the file holds a {PythonType(root)}, not a dict of tensors");
        if (dict["state_dict"] is Hashtable inner) dict = inner;

        // Tensors are rebuilt in pickling order, which is the dict's order. (Razorvine fills a dict
        // through SETITEMS in reverse, so the order keys were set in is no guide; it only breaks ties
        // between names that hold the very same tensor object, reversed back.)
        var setOrder = dict is PickledOrderedDict ordered
            ? ordered.KeysInSetOrder.Select((k, i) => (k, i)).ToDictionary(p => p.k, p => p.i)
            : [];
        var keys = dict.Keys.Cast<object>()
            .OrderBy(k => dict[k] is TensorRecord t ? t.Sequence : long.MaxValue)
            .ThenByDescending(k => setOrder.GetValueOrDefault(k))
            .ThenBy(k => k as string, StringComparer.Ordinal)
            .ToList();
        var entries = new List<(string, TensorRecord)>(keys.Count);
        foreach (var keyObject in keys)
        {
            string name = RestrictedUnpickler.ToText(keyObject, "state dict key");
            if (dict[keyObject] is not TensorRecord record)
                throw new WeightFormatException($"entry {name} is a {PythonType(dict[keyObject])}, not a tensor");
            entries.Add((name, record));
        }
        return entries;
    }

    /// <summary>
    /// What the entries would allocate, refused before anything is: every tensor inside its storage, the storages at
    /// most <see cref="MaxGrowth"/> times the file (a real state dict stays under 2x, fp16 files), and the tensors (as
    /// float32/int64) at most that or <see cref="TensorBudget"/>, whichever is larger. Broadcast views are legitimate
    /// (PyTorch saves an expanded tensor as its small storage; the zoo's test fixtures are made so), so views may grow
    /// past the file, but never past what a zoo network needs (VGG-19: 575 MB).
    /// </summary>
    private static void CheckSizes(IReadOnlyList<(string Name, TensorRecord Record)> entries, long fileLength)
    {
        Int128 budget = (Int128)fileLength * MaxGrowth + MinBudget, tensorBudget = Int128.Max(budget, TensorBudget), total = 0, storageTotal = 0;
        var storages = new HashSet<string>();
        foreach (var (name, record) in entries)
        {
            // A storage's bytes are held once while its tensors are cut out (a compressed entry may claim any size).
            if (storages.Add(record.Storage.Key))
            {
                storageTotal += (Int128)record.Storage.NumElements * StorageBytes.ElementSize(record.Storage.DType);
                if (storageTotal > budget)
                    throw new WeightFormatException(
                        $"storage {record.Storage.Key} declares {record.Storage.NumElements} elements, more than the file's {fileLength} bytes hold");
            }
            Int128 elements = 1, last = record.Storage.ViewOffset + record.Offset;
            foreach (var (size, stride) in record.Shape.Zip(record.Stride))
            {
                elements *= size;
                if (size > 0) last += (Int128)(size - 1) * stride;
                if (elements > tensorBudget) break; // keeps the product from overflowing
            }
            if (record.Offset < 0 || (elements > 0 && last >= record.Storage.NumElements))
                throw new WeightFormatException($"tensor {name} reaches outside its storage");
            total += elements * (IsFloating(record.Storage.DType) ? 4 : 8);
            if (total > tensorBudget)
                throw new WeightFormatException(
                    $"tensor {name} ({string.Join('x', record.Shape)}) brings the tensors to more than {tensorBudget} bytes from a file of " +
                    $"{fileLength} bytes (zero strides or repeated views); save contiguous tensors");
        }
    }

    private const int MaxGrowth = 4;
    private const long MinBudget = 1 << 20;
    private const long TensorBudget = 2L << 30;

    private static bool IsFloating(ScalarType type) =>
        type is ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float32 or ScalarType.Float64;

    /// <summary>Cuts the tensor out of its storage (offset and strides as saved) and converts its type.</summary>
    private static Tensor Rebuild(string name, TensorRecord record, Tensor storage)
    {
        long offset = record.Storage.ViewOffset + record.Offset; // checked by CheckSizes
        var view = storage.as_strided(record.Shape, record.Stride, offset);
        var target = storage.dtype switch
        {
            ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float32 or ScalarType.Float64 => ScalarType.Float32,
            ScalarType.Byte or ScalarType.Int8 or ScalarType.Int16 or ScalarType.Int32 or ScalarType.Int64 => ScalarType.Int64,
            ScalarType.Bool => ScalarType.Bool,
            _ => throw new WeightFormatException($"tensor {name} has unsupported type {storage.dtype}"),
        };
        // A fresh contiguous copy: entries sharing a storage must not share memory afterwards.
        return view.to(target, copy: true).contiguous();
    }

    private static string PythonType(object? value) => value switch
    {
        null => "None",
        Hashtable => "dict",
        ArrayList => "list",
        object[] => "tuple",
        string => "str",
        int or long => "int",
        double => "float",
        _ => value.GetType().Name,
    };
}
