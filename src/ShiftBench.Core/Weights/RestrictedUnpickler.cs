using System.Buffers.Binary;
using System.Collections;
using System.Text;
using Razorvine.Pickle;
using Razorvine.Pickle.Objects;
using static TorchSharp.torch;

namespace ShiftBench.Weights;

/// <summary>The file's bytes do not form what torch.save writes (cut short, damaged, or another format).</summary>
internal sealed class WeightFormatException(string detail, Exception? inner = null) : Exception(detail, inner);

/// <summary>The pickle names a global outside the allow-list; thrown before any object is built.</summary>
internal sealed class RefusedGlobalException(string global) : Exception($"refuses pickled global '{global}'")
{
    public string Global { get; } = global;
}

/// <summary>One storage a pickled tensor points at (a persistent id). For legacy storage views,
/// <see cref="ViewOffset"/> is where the view starts inside the root storage, in elements.</summary>
internal sealed record StorageRef(string Key, ScalarType DType, long NumElements, long ViewOffset = 0);

/// <summary>A `_rebuild_tensor_v2` call, kept inert until its storage bytes are read.</summary>
internal sealed record TensorRecord(StorageRef Storage, long Offset, long[] Shape, long[] Stride, long Sequence);

/// <summary>A pickled collections.OrderedDict (Razorvine fills dicts through the Hashtable indexer, so
/// it must be a Hashtable); remembers the order keys were set in.</summary>
internal sealed class PickledOrderedDict : Hashtable
{
    private readonly List<object> _order = [];

    public IReadOnlyList<object> KeysInSetOrder => _order;

    public override object? this[object key]
    {
        get => base[key];
        set
        {
            if (!ContainsKey(key)) _order.Add(key);
            base[key] = value;
        }
    }

    public override void Add(object key, object? value)
    {
        base.Add(key, value);
        _order.Add(key);
    }

    // BUILD passes the instance attributes (a state dict's `_metadata`); they hold no tensors.
    public void __setstate__(Hashtable state) { }
}

/// <summary>
/// Unpickles what torch.save writes for a state dict, and nothing else. Before Razorvine builds any
/// object, <see cref="PickleScanner"/> walks the opcodes and refuses every global outside
/// <see cref="AllowedGlobals"/> by name (Razorvine itself never runs code, but it would silently turn an
/// unknown global into a dictionary). The tensor constructors only record their arguments.
/// </summary>
internal sealed class RestrictedUnpickler : Unpickler
{
    private static readonly string[] StorageTypes =
    [
        "FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage", "LongStorage", "IntStorage",
        "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage",
    ];

    public static readonly IReadOnlySet<string> AllowedGlobals = new HashSet<string>(
        new[] { "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor",
                "torch._utils._rebuild_parameter" }
        .Concat(StorageTypes.Select(s => "torch." + s)));

    // Razorvine keeps constructors in one process-wide table (TorchSharp.PyBridge registers its own for
    // the same names), so ours are put in only for the duration of one load and the previous ones restored.
    private static readonly Dictionary<string, IObjectConstructor> OurConstructors = new()
    {
        ["collections.OrderedDict"] = new OrderedDictConstructor(),
        ["torch._utils._rebuild_tensor_v2"] = new RebuildTensorConstructor(),
        ["torch._utils._rebuild_tensor"] = new RebuildTensorConstructor(),
        ["torch._utils._rebuild_parameter"] = new RebuildParameterConstructor(),
    };

    private static readonly Lock RegistryGate = new();
    private static long _sequence;

    private readonly Func<object[], object> _persistentLoad;

    private RestrictedUnpickler(Func<object[], object> persistentLoad) => _persistentLoad = persistentLoad;

    /// <summary>Checks <paramref name="pickle"/> (one complete pickle) and unpickles it.</summary>
    public static object Load(byte[] pickle, Func<object[], object> persistentLoad)
    {
        PickleScanner.CheckGlobals(pickle);
        lock (RegistryGate)
        {
            var previous = new Dictionary<string, IObjectConstructor?>();
            foreach (var (name, constructor) in OurConstructors)
            {
                previous[name] = objectConstructors.TryGetValue(name, out var old) ? old : null;
                objectConstructors[name] = constructor;
            }
            try
            {
                using var unpickler = new RestrictedUnpickler(persistentLoad);
                return unpickler.loads(pickle);
            }
            catch (Exception e) when (e is PickleException or InvalidCastException or InvalidOperationException
                                          or IndexOutOfRangeException or ArgumentException or FormatException
                                          or OverflowException or NullReferenceException)
            {
                throw new WeightFormatException($"unreadable pickle ({e.Message})", e);
            }
            finally
            {
                foreach (var (name, old) in previous)
                {
                    if (old is null) objectConstructors.Remove(name);
                    else objectConstructors[name] = old;
                }
            }
        }
    }

    protected override object persistentLoad(object pid) =>
        pid is object[] tuple ? _persistentLoad(tuple)
            : throw new WeightFormatException($"unexpected persistent id {pid}");

    /// <summary>Reads a `torch.XStorage` global (which Razorvine leaves as an inert ClassDictConstructor).</summary>
    public static ScalarType StorageDType(object storageType) => storageType switch
    {
        ClassDictConstructor { module: "torch" } c => c.name switch
        {
            "FloatStorage" => ScalarType.Float32,
            "DoubleStorage" => ScalarType.Float64,
            "HalfStorage" => ScalarType.Float16,
            "BFloat16Storage" => ScalarType.BFloat16,
            "LongStorage" => ScalarType.Int64,
            "IntStorage" => ScalarType.Int32,
            "ShortStorage" => ScalarType.Int16,
            "CharStorage" => ScalarType.Int8,
            "ByteStorage" => ScalarType.Byte,
            "BoolStorage" => ScalarType.Bool,
            _ => throw new WeightFormatException($"unsupported storage type torch.{c.name}"),
        },
        _ => throw new WeightFormatException($"persistent id names no storage type ({storageType})"),
    };

    public static long ToLong(object? value, string what) => value switch
    {
        int i => i,
        long l => l,
        System.Numerics.BigInteger b when b >= long.MinValue && b <= long.MaxValue => (long)b,
        _ => throw new WeightFormatException($"{what} is not an integer ({value ?? "None"})"),
    };

    /// <summary>A persistent id's element count: never negative (a negative count would allocate or seek backwards).</summary>
    public static long StorageSize(object? value) => ToLong(value, "storage size") is var n && n >= 0
        ? n
        : throw new WeightFormatException($"storage size {value} is negative");

    public static string ToText(object? value, string what) => value switch
    {
        string s => s,
        byte[] b => Encoding.ASCII.GetString(b), // Python 2 files pickle some keys as bytes
        _ => throw new WeightFormatException($"{what} is not a string ({value ?? "None"})"),
    };

    private static long[] ToLongs(object? value, string what) => value is object[] tuple
        ? tuple.Select(v => ToLong(v, what)).ToArray()
        : throw new WeightFormatException($"{what} is not a tuple ({value ?? "None"})");

    private sealed class OrderedDictConstructor : IObjectConstructor
    {
        public object construct(object[] args) => args.Length == 0
            ? new PickledOrderedDict()
            : throw new WeightFormatException("OrderedDict pickled with constructor arguments");
    }

    private sealed class RebuildTensorConstructor : IObjectConstructor
    {
        // (storage, storage_offset, size, stride, ...): requires_grad and hooks do not matter here.
        public object construct(object[] args)
        {
            if (args.Length < 4 || args[0] is not StorageRef storage)
                throw new WeightFormatException("_rebuild_tensor called without a storage");
            var shape = ToLongs(args[2], "tensor size");
            var stride = ToLongs(args[3], "tensor stride");
            if (shape.Length != stride.Length || shape.Any(s => s < 0) || stride.Any(s => s < 0))
                throw new WeightFormatException("tensor size and stride do not match");
            return new TensorRecord(storage, ToLong(args[1], "storage offset"), shape, stride,
                Interlocked.Increment(ref _sequence));
        }
    }

    private sealed class RebuildParameterConstructor : IObjectConstructor
    {
        public object construct(object[] args) => args.Length >= 1 && args[0] is TensorRecord t
            ? t
            : throw new WeightFormatException("_rebuild_parameter called without a tensor");
    }
}

/// <summary>
/// Walks pickle opcodes without building anything: finds where one pickle ends (the legacy format
/// puts several pickles and raw bytes in one stream) and checks every global against the allow-list.
/// </summary>
internal static class PickleScanner
{
    public static void CheckGlobals(byte[] pickle)
    {
        using var stream = new MemoryStream(pickle, writable: false);
        ReadOne(stream);
    }

    /// <summary>Reads exactly one pickle from <paramref name="stream"/> and returns its bytes.</summary>
    public static byte[] ReadOne(Stream stream)
    {
        var copy = new MemoryStream();
        var reader = new Reader(stream, copy);
        // Strings most recently pushed, and strings in the memo, so that STACK_GLOBAL can be named.
        string? last = null, beforeLast = null;
        var memo = new Dictionary<long, string?>();

        void Push(string? text) { beforeLast = last; last = text; }

        while (true)
        {
            byte op = reader.Byte();
            switch (op)
            {
                case (byte)'.': // STOP
                    return copy.ToArray();

                case (byte)'c': // GLOBAL
                case (byte)'i': // INST
                    Check(reader.Line() + "." + reader.Line());
                    Push(null);
                    break;
                case 0x93: // STACK_GLOBAL
                    if (last is null || beforeLast is null)
                        throw new RefusedGlobalException("<computed STACK_GLOBAL name>");
                    Check(beforeLast + "." + last);
                    Push(null);
                    break;
                case 0x82: case 0x83: case 0x84: // EXT1/2/4: globals from the copyreg registry
                    throw new RefusedGlobalException("<copyreg extension code>");

                // Strings (tracked for STACK_GLOBAL).
                case 0x8c: Push(reader.Utf8(reader.Byte())); break; // SHORT_BINUNICODE
                case (byte)'X': Push(reader.Utf8(reader.Int32())); break; // BINUNICODE
                case 0x8d: Push(reader.Utf8(reader.Int64())); break; // BINUNICODE8
                case (byte)'U': reader.Skip(reader.Byte()); Push(null); break; // SHORT_BINSTRING
                case (byte)'T': reader.Skip(reader.Int32()); Push(null); break; // BINSTRING

                // Memo.
                case (byte)'q': memo[reader.Byte()] = last; break; // BINPUT
                case (byte)'r': memo[(uint)reader.Int32()] = last; break; // LONG_BINPUT
                case (byte)'p': memo[long.Parse(reader.Line())] = last; break; // PUT
                case 0x94: memo[memo.Count] = last; break; // MEMOIZE
                case (byte)'h': Push(memo.GetValueOrDefault(reader.Byte())); break; // BINGET
                case (byte)'j': Push(memo.GetValueOrDefault((uint)reader.Int32())); break; // LONG_BINGET
                case (byte)'g': Push(memo.GetValueOrDefault(long.Parse(reader.Line()))); break; // GET

                // Opcodes without argument.
                case (byte)'(': case (byte)'0': case (byte)'1': case (byte)'2': case (byte)'N':
                case (byte)'R': case (byte)'a': case (byte)'b': case (byte)'d': case (byte)'}':
                case (byte)'e': case (byte)'l': case (byte)']': case (byte)'o': case (byte)'s':
                case (byte)'t': case (byte)')': case (byte)'u': case (byte)'Q': case 0x81: case 0x85:
                case 0x86: case 0x87: case 0x88: case 0x89: case 0x8f: case 0x90: case 0x91: case 0x92:
                case 0x97: case 0x98:
                    Push(null);
                    break;

                // Fixed-size arguments.
                case 0x80: reader.Skip(1); break; // PROTO
                case (byte)'K': reader.Skip(1); Push(null); break; // BININT1
                case (byte)'M': reader.Skip(2); Push(null); break; // BININT2
                case (byte)'J': reader.Skip(4); Push(null); break; // BININT
                case (byte)'G': reader.Skip(8); Push(null); break; // BINFLOAT
                case 0x95: reader.Skip(8); break; // FRAME

                // Length-prefixed arguments.
                case (byte)'C': case 0x8a: reader.Skip(reader.Byte()); Push(null); break; // SHORT_BINBYTES, LONG1
                case (byte)'B': case 0x8b: reader.Skip(reader.Int32()); Push(null); break; // BINBYTES, LONG4
                case 0x8e: case 0x96: reader.Skip(reader.Int64()); Push(null); break; // BINBYTES8, BYTEARRAY8

                // Text-line arguments (protocol 0).
                case (byte)'I': case (byte)'L': case (byte)'F': case (byte)'S': case (byte)'V': case (byte)'P':
                    reader.Line();
                    Push(null);
                    break;

                default:
                    throw new WeightFormatException($"invalid pickle opcode 0x{op:x2}");
            }
        }
    }

    private static void Check(string global)
    {
        if (!RestrictedUnpickler.AllowedGlobals.Contains(global)) throw new RefusedGlobalException(global);
    }

    /// <summary>Reads from the source and keeps a copy of every byte read.</summary>
    private sealed class Reader(Stream source, MemoryStream copy)
    {
        private readonly byte[] _small = new byte[8];

        public byte Byte()
        {
            int b = source.ReadByte();
            if (b < 0) throw new WeightFormatException("file ends inside a pickle");
            copy.WriteByte((byte)b);
            return (byte)b;
        }

        private ReadOnlySpan<byte> Bytes(long count)
        {
            if (count < 0 || count > source.Length - source.Position)
                throw new WeightFormatException("file ends inside a pickle");
            var buffer = count <= _small.Length ? _small : new byte[count];
            source.ReadExactly(buffer, 0, (int)count);
            copy.Write(buffer, 0, (int)count);
            return buffer.AsSpan(0, (int)count);
        }

        public void Skip(long count) => Bytes(count);
        public int Int32() => BinaryPrimitives.ReadInt32LittleEndian(Bytes(4));
        public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Bytes(8));
        public string Utf8(long count) => Encoding.UTF8.GetString(Bytes(count));

        public string Line()
        {
            var line = new List<byte>();
            for (byte b = Byte(); b != (byte)'\n'; b = Byte()) line.Add(b);
            return Encoding.UTF8.GetString(line.ToArray());
        }
    }
}
