using System.Globalization;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Onnx;
using ShiftBench.Output;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace ShiftBench.Models.Onnx;

/// <summary>Input settings given on the command line; each overrides the YAML beside the model (PATH.onnx.yaml).</summary>
public sealed record OnnxOptions
{
    public int? Size { get; init; }
    public double[]? Mean { get; init; }
    public double[]? Std { get; init; }
    /// <summary>rgb or bgr: the channel order the network expects.</summary>
    public string? Channels { get; init; }
    /// <summary>Tensor read as the logits (fc, class); default: the first graph output.</summary>
    public string? Logits { get; init; }
    /// <summary>Run folder name in place of the file stem (OUT/dataset/NAME/onnx).</summary>
    public string? Name { get; init; }
}

/// <summary>The YAML beside a model (PATH.onnx.yaml): size, mean, std, channels, logits.</summary>
sealed class OnnxSidecar
{
    public int? Size { get; set; }
    public List<double>? Mean { get; set; }
    public List<double>? Std { get; set; }
    public string? Channels { get; set; }
    public string? Logits { get; set; }
}

/// <summary>A tensor of the graph: where it is (input, output, intermediate), its element type and dims where the file knows them.</summary>
public sealed record OnnxTensorInfo(string Name, string Kind, string ElementType, IReadOnlyList<string>? Dims)
{
    public int? Rank => Dims?.Count;
    public string ShapeText => Dims is null ? "[?]" : "[" + string.Join(",", Dims) + "]";
}

/// <summary>
/// An ONNX network as `--model PATH.onnx` names it: the parsed graph, its one NCHW float image input and how
/// to feed it (size, mean, std, channel order from options, else PATH.onnx.yaml, else 224 RGB ImageNet),
/// the logits tensor and every tensor a layer may name. Loading checks all of it, so a bad file fails
/// before anything runs or is written.
/// </summary>
public sealed class OnnxModel
{
    public const string VariantName = "onnx";
    public const string Extension = ".onnx";
    /// <summary>Images per forward pass unless --batch-size or a fixed batch dimension says otherwise.</summary>
    public const int DefaultBatchSize = 16;

    readonly ModelProto proto;
    readonly Dictionary<string, OnnxTensorInfo> tensors;
    // File-safe layer name -> tensor name; null where two tensors map to the same file-safe name.
    readonly Dictionary<string, string?> bySafeName = [];

    public string Path { get; }
    /// <summary>The run folder's model name: the file stem unless --name.</summary>
    public string Name { get; }
    public string Sha256 { get; }
    public long OpsetVersion { get; }
    public string Producer { get; }
    public OnnxTensorInfo Input { get; }
    public int? FixedBatch { get; }
    public int Size { get; }
    public IReadOnlyList<double> Mean { get; }
    public IReadOnlyList<double> Std { get; }
    public bool Bgr { get; }
    /// <summary>The tensor fc and class read; null for a network without a classifier (a packaged featurizer).</summary>
    public string? LogitsTensor { get; }
    /// <summary>A packaged network (`--model NAME`): its named layers, stages and files; null for a file given by path.</summary>
    public PackagedNetwork? Packaged { get; }
    /// <summary>A per-pixel mean image subtracted from 0..255 inputs (a packaged network's preprocessing graph), or null.</summary>
    public MeanImage? MeanImage { get; }
    public IReadOnlyList<OnnxTensorInfo> Outputs { get; }
    public IReadOnlyList<OnnxTensorInfo> Intermediates { get; }

    public static bool IsOnnxPath(string model) => model.EndsWith(Extension, StringComparison.OrdinalIgnoreCase);

    public static OnnxModel Load(string path, OnnxOptions? options = null) => new(path, options ?? new OnnxOptions(), null);

    /// <summary>
    /// A packaged network: its files checked, fed through its own preprocessing graph (the dataset's 8-bit values / 255,
    /// so mean 0 and std 1 here), its named layers in place of fc and class.
    /// </summary>
    public static OnnxModel Load(PackagedNetwork network)
    {
        network.CheckPresent();
        return new(network.NetworkPath, new OnnxOptions { Name = network.Name, Mean = [0, 0, 0], Std = [1, 1, 1] }, network);
    }

    OnnxModel(string path, OnnxOptions options, PackagedNetwork? packaged)
    {
        Packaged = packaged;
        Path = System.IO.Path.GetFullPath(path);
        if (!File.Exists(path))
            throw new ShiftBenchException($"ONNX model {path} does not exist (--model): give the path of a .onnx file");
        proto = Parse(path);
        var graph = proto.Graph;
        Sha256 = FileHash.Sha256(path);
        packaged?.CheckHash(path, Sha256);
        OpsetVersion = proto.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();
        Producer = (proto.ProducerName + " " + proto.ProducerVersion).Trim();

        var valueInfo = graph.ValueInfo.Concat(graph.Output).Concat(graph.Input).GroupBy(v => v.Name).ToDictionary(g => g.Key, g => g.First());
        var initializers = graph.Initializer.Select(t => t.Name).ToHashSet();
        var inputs = graph.Input.Where(i => !initializers.Contains(i.Name)).Select(i => Info(i, "input")).ToList();
        Outputs = graph.Output.Select(o => Info(o, "output")).ToList();
        var outputNames = Outputs.Select(o => o.Name).ToHashSet();
        Intermediates = graph.Node.SelectMany(n => n.Output).Where(n => n != "" && !outputNames.Contains(n)).Distinct()
            .Select(n => valueInfo.TryGetValue(n, out var v) ? Info(v, "intermediate") : new OnnxTensorInfo(n, "intermediate", "?", null)).ToList();
        tensors = inputs.Concat(Outputs).Concat(Intermediates).GroupBy(t => t.Name).ToDictionary(g => g.Key, g => g.First());
        foreach (var t in tensors.Keys)
        {
            string safe = LayerSpec.FileSafe(t);
            bySafeName[safe] = bySafeName.ContainsKey(safe) ? null : t;
        }

        var sidecar = packaged is null ? ReadSidecar(path + ".yaml") : null;
        Input = CheckInput(inputs, path);
        var dims = Input.Dims!;
        FixedBatch = int.TryParse(dims[0], out int b) && b > 0 ? b : null;
        int? fixedH = int.TryParse(dims[2], out int h) ? h : null, fixedW = int.TryParse(dims[3], out int w) ? w : null;
        if (fixedH is { } fh && fixedW is { } fw && fh != fw)
            throw new ShiftBenchException($"{path}: input '{Input.Name}' is {Input.ShapeText}; ShiftBench feeds square images [N,3,S,S]");
        Size = options.Size ?? sidecar?.Size ?? fixedH ?? fixedW ?? 224;
        if ((fixedH ?? Size) != Size)
            throw new ShiftBenchException($"{path}: input '{Input.Name}' is {Input.ShapeText} but the input size is {Size} (--input-size or {path}.yaml); use {fixedH}");
        Mean = Triple(options.Mean ?? sidecar?.Mean?.ToArray() ?? ImageNet.Mean, "mean", path);
        Std = Triple(options.Std ?? sidecar?.Std?.ToArray() ?? ImageNet.Std, "std", path);
        if (Std.Any(s => s <= 0)) throw new ShiftBenchException($"std {string.Join(",", Std)} (--std or {path}.yaml): every value must be positive");
        if (packaged is not null)
        {
            MeanImage = MeanImage.Load(packaged.PreprocessPath);
            packaged.CheckHash(packaged.PreprocessPath, MeanImage.Sha256);
            if (MeanImage.Size != Size)
                throw new ShiftBenchException($"{packaged.PreprocessPath}: its mean image is {MeanImage.Size}x{MeanImage.Size} but {path} takes {Size}x{Size}");
        }
        string channels = (options.Channels ?? sidecar?.Channels ?? (MeanImage?.Bgr == true ? "bgr" : "rgb")).ToLowerInvariant();
        Bgr = channels switch
        {
            "rgb" => false,
            "bgr" => true,
            _ => throw new ShiftBenchException($"channels '{channels}' (--channels or {path}.yaml): use rgb or bgr"),
        };
        if (packaged is null)
        {
            LogitsTensor = options.Logits ?? sidecar?.Logits ?? Outputs.FirstOrDefault()?.Name
                ?? throw new ShiftBenchException($"{path}: the graph has no outputs");
            CheckTensor(LogitsTensor, "--logits");
        }
        foreach (var layer in packaged?.Named.Concat(packaged.Stages) ?? []) CheckTensor(layer.Tensor, $"{Path} layer {layer.Name}");
        Name = options.Name ?? System.IO.Path.GetFileNameWithoutExtension(path);
        if (Name.Length == 0 || Name != LayerSpec.FileSafe(Name) || Name.StartsWith('.'))
            throw new ShiftBenchException($"run name '{Name}' (--name or the file stem) must be letters, digits and ._+-; give one with --name");
    }

    static ModelProto Parse(string path)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(InputFile.ReadAllBytes(path, "ONNX model", int.MaxValue));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ShiftBenchException($"{path} is not a readable ONNX model ({e.Message.Split('\n')[0].TrimEnd('.')}; truncated or another format): export it again, e.g. with torch.onnx.export");
        }
        // Protobuf reads many byte strings as some message; a real model has an IR version and a graph with nodes.
        if (model.IrVersion <= 0 || model.Graph is null || model.Graph.Node.Count == 0)
            throw new ShiftBenchException($"{path} is not an ONNX model (no IR version or no graph): export one, e.g. with torch.onnx.export");
        return model;
    }

    static OnnxSidecar? ReadSidecar(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            return new DeserializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance).Build()
                .Deserialize<OnnxSidecar>(BoundedFile.ReadAllText(path, "ONNX sidecar")) ?? new OnnxSidecar();
        }
        catch (YamlException e)
        {
            throw new ShiftBenchException($"{path}: invalid at line {e.Start.Line}: {(e.InnerException?.Message ?? e.Message).Split('\n')[0]} (fields: size, mean, std, channels, logits)");
        }
    }

    static IReadOnlyList<double> Triple(double[] values, string what, string path) => values.Length == 3 ? values
        : throw new ShiftBenchException($"{what} has {values.Length} values (--{what} or {path}.yaml): give three, one per channel, e.g. 0.485,0.456,0.406");

    const string Expected = "ShiftBench feeds one float32 NCHW image input [N,3,H,W] (export with a float input of shape [N,3,224,224])";

    static OnnxTensorInfo CheckInput(List<OnnxTensorInfo> inputs, string path)
    {
        if (inputs.Count != 1)
            throw new ShiftBenchException($"{path} has {inputs.Count} inputs ({string.Join(", ", inputs.Select(i => $"'{i.Name}' {i.ElementType} {i.ShapeText}"))}); {Expected}");
        var input = inputs[0];
        string got = $"{path}: input '{input.Name}' is {input.ElementType} {input.ShapeText}";
        if (input.ElementType != "float32") throw new ShiftBenchException($"{got}; {Expected}");
        if (input.Dims is not { Count: 4 } d) throw new ShiftBenchException($"{got}; {Expected}");
        if (d[1] != "3" && d[3] == "3") throw new ShiftBenchException($"{got}, channels last (NHWC); {Expected}");
        if (int.TryParse(d[1], out int c) && c != 3) throw new ShiftBenchException($"{got}; {Expected}");
        return input;
    }

    static OnnxTensorInfo Info(ValueInfoProto v, string kind)
    {
        if (v.Type?.TensorType is not { } t) return new OnnxTensorInfo(v.Name, kind, v.Type is null ? "?" : "non-tensor", null);
        var dims = t.Shape is null ? null
            : t.Shape.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue
                ? d.DimValue.ToString(CultureInfo.InvariantCulture)
                : d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam ? d.DimParam : "?").ToList();
        return new OnnxTensorInfo(v.Name, kind, ElementTypeName(t.ElemType), dims);
    }

    static string ElementTypeName(int type) => type switch
    {
        1 => "float32", 2 => "uint8", 3 => "int8", 4 => "uint16", 5 => "int16", 6 => "int32", 7 => "int64",
        8 => "string", 9 => "bool", 10 => "float16", 11 => "float64", 12 => "uint32", 13 => "uint64", 16 => "bfloat16",
        _ => $"type {type}",
    };

    /// <summary>Values per image in the logits tensor (the class count of a classifier), when its shape fixes them.</summary>
    public int? LogitsWidth => LogitsTensor is not null && tensors[LogitsTensor].Dims is { Count: >= 2 } dims
        && dims.Skip(1).All(d => int.TryParse(d, out int n) && n > 0)
        ? (int)Math.Min(int.MaxValue, dims.Skip(1).Aggregate(1L, (product, d) => product * int.Parse(d, CultureInfo.InvariantCulture)))
        : null;

    /// <summary>The logits tensor as `models` shows it: its name and how many classes its shape gives.</summary>
    public string LogitsText => LogitsTensor is null ? "none (no classifier)" : $"{LogitsTensor} {tensors[LogitsTensor].ShapeText}" + (LogitsWidth is { } w
        ? $", {w} values per image (class applies to targets 0-{w - 1})"
        : ", width not fixed by the file");

    /// <summary>Every tensor a layer may name (graph outputs and intermediate values), with the input first.</summary>
    public IEnumerable<OnnxTensorInfo> AllTensors => [Input, .. Outputs, .. Intermediates];

    void CheckTensor(string name, string option)
    {
        if (tensors.ContainsKey(name) && name != Input.Name) return;
        throw new ShiftBenchException($"{System.IO.Path.GetFileName(Path)} has no tensor '{name}' ({option}); nearest: {string.Join(", ", Nearest(name))} (`shiftbench models --layers {Path}` lists all)");
    }

    /// <summary>Up to five tensor (or named layer) names closest to <paramref name="name"/> (see <see cref="NearestNames"/>).</summary>
    public IReadOnlyList<string> Nearest(string name) =>
        NearestNames.Of(tensors.Keys.Where(t => t != Input.Name).Concat(Packaged?.Named.Concat(Packaged.Stages).Select(l => l.Name) ?? []), name);

    /// <summary>The one line for fc or class asked of a network without logits.</summary>
    public string NoLogits(string layer) =>
        $"{Name} has no classifier, so no '{layer}' (fc, class and consistency need logits): choose --layers {string.Join(",", [.. Packaged?.DefaultLayers ?? [], .. Packaged is null ? [] : new[] { ZooLayers.StagesKeyword }])} or a tensor (`shiftbench models --layers {Packaged?.Name ?? Path}`)";

    /// <summary>Batch [N,3,S,S] as the dataset made it (mean and std applied) -> the graph's input: channels reordered for BGR, the mean image subtracted.</summary>
    public TorchSharp.torch.Tensor Prepare(TorchSharp.torch.Tensor batch)
    {
        var x = Bgr ? batch.flip(1) : batch;
        return MeanImage is { } mean ? mean.Subtract(x) : x;
    }

    /// <summary>
    /// Layer names to write for --layers (each `fc`, `class` or NAME[@gap|@flat]); empty = the graph outputs other than
    /// the logits, then fc and class (a packaged network: its named layers, and `stages` stands for its stages).
    /// Names are the specs as written, made file-safe; unknown tensors list the nearest.
    /// </summary>
    /// <param name="targetClass">The dataset's class: `class` is left out of the defaults, and refused when asked for,
    /// where it indexes past the logits (a model with other classes, or a featurizer without logits).</param>
    public IReadOnlyList<string> ResolveLayers(IReadOnlyList<string> requested, int? targetClass = null)
    {
        var specs = requested.SelectMany(l => l.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .SelectMany(l => Packaged?.Expand(l) ?? [l]).Distinct().ToList();
        bool classFits = targetClass is not { } target || LogitsWidth is not { } width || target < width;
        if (specs.Count == 0)
            specs = Packaged is { } packaged ? [.. packaged.DefaultLayers]
                : [.. Outputs.Where(o => o.Name != LogitsTensor).Select(o => o.Name), ModelEntry.LogitsLayer, .. classFits ? [ModelEntry.ClassLayer] : Array.Empty<string>()];
        else if (specs.Contains(ModelEntry.ClassLayer) && LogitsTensor is not null && !classFits)
            throw new ShiftBenchException($"--layers class: the dataset's target class {targetClass} is past the {LogitsWidth} values of " +
                $"{System.IO.Path.GetFileName(Path)}'s logits tensor '{LogitsTensor}'; leave class out, or name the tensor holding the class scores with --logits");
        var names = new List<string>();
        foreach (var text in specs)
        {
            if (text is ModelEntry.LogitsLayer or ModelEntry.ClassLayer && LogitsTensor is null) throw new ShiftBenchException(NoLogits(text));
            string name = text is ModelEntry.LogitsLayer or ModelEntry.ClassLayer ? text : LayerSpec.FileSafe(text);
            if (name is not (ModelEntry.LogitsLayer or ModelEntry.ClassLayer)) Spec(name); // checks it names a tensor
            if (!names.Contains(name)) names.Add(name);
        }
        return names;
    }

    /// <summary>The spec behind a resolved layer name (not fc or class), checked against the graph.</summary>
    public LayerSpec Spec(string layer)
    {
        var written = LayerSpec.Parse(layer);
        if (Packaged?.TensorOf(written.Tensor) is { } named) written = written with { Tensor = named };
        string tensor = tensors.ContainsKey(written.Tensor) ? written.Tensor
            : bySafeName.TryGetValue(written.Tensor, out var t) && t is not null ? t
            : bySafeName.ContainsKey(written.Tensor)
                ? throw new ShiftBenchException($"layer '{layer}': several tensors of {System.IO.Path.GetFileName(Path)} have that file-safe name; write the tensor's exact name")
                : written.Tensor;
        CheckTensor(tensor, "--layers");
        var spec = written with { Tensor = tensor };
        var info = tensors[tensor];
        if (info.ElementType is not ("float32" or "?"))
            throw new ShiftBenchException($"layer '{layer}': tensor '{tensor}' is {info.ElementType}; layers must be float32 tensors");
        spec.CheckRank(info.Rank, info.ShapeText);
        return spec;
    }

    /// <summary>The model with the given tensors added to the graph outputs (ONNX Runtime returns only graph outputs).</summary>
    internal byte[] WithOutputs(IEnumerable<string> tensorNames)
    {
        var extra = tensorNames.Where(n => !proto.Graph.Output.Any(o => o.Name == n)).Distinct().ToList();
        if (extra.Count == 0) return File.ReadAllBytes(Path);
        var copy = proto.Clone();
        var known = copy.Graph.ValueInfo.GroupBy(v => v.Name).ToDictionary(g => g.Key, g => g.First());
        foreach (var name in extra)
            copy.Graph.Output.Add(known.TryGetValue(name, out var v) ? v.Clone() : new ValueInfoProto { Name = name });
        return copy.ToByteArray();
    }

    /// <summary>What run.json records about the file (beside weights.path/sha256, which name the same file).</summary>
    public JsonObject Describe() => new()
    {
        ["path"] = Path,
        ["sha256"] = Sha256,
        ["opset"] = OpsetVersion,
        ["producer"] = Producer,
        ["input"] = new JsonObject
        {
            ["name"] = Input.Name, ["shape"] = Input.ShapeText, ["size"] = Size,
            ["mean"] = new JsonArray([.. Mean.Select(m => JsonValue.Create(m))]), ["std"] = new JsonArray([.. Std.Select(s => JsonValue.Create(s))]),
            ["channels"] = Bgr ? "bgr" : "rgb", ["fixed_batch"] = FixedBatch,
        },
        ["logits"] = LogitsTensor,
        ["packaged"] = Packaged is { } p ? new JsonObject
        {
            ["name"] = p.Name, ["package"] = p.Package, ["licence"] = p.Licence,
            ["preprocess"] = new JsonObject { ["path"] = MeanImage!.Path, ["sha256"] = MeanImage.Sha256, ["mean_image"] = true, ["input_scale"] = 255 },
            ["layers"] = new JsonObject(p.Named.Concat(p.Stages).Select(l => KeyValuePair.Create(l.Name, (JsonNode?)l.Tensor))),
        } : null,
    };
}
