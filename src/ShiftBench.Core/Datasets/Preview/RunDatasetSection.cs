using System.Text.Json;
using ShiftBench.Output;

namespace ShiftBench.Datasets;

/// <summary>
/// run.json's "dataset" section as a dataset kind's report preview reads it: typed fields of dataset.config that
/// fail with one line naming the field, and the kind's source images resized as the run resized them.
/// </summary>
public sealed class RunDatasetSection
{
    readonly IReadOnlyList<RunSource> sources;
    readonly List<string> dataDirs;
    readonly ResizeSource resize;

    /// <summary>Reads (and checks, in this order) dataset.config's kind, resize_method and canvas.size.</summary>
    internal RunDatasetSection(IReadOnlyList<RunSource> sources, JsonElement config, string name, List<string> dataDirs, ResizeSource resize)
    {
        this.sources = sources; this.dataDirs = dataDirs; this.resize = resize;
        Config = config; Name = name;
        Kind = Str(config, "kind", "kind");
        ResizeMethod = config.TryGetProperty("resize_method", out var m) ? (m.ValueKind == JsonValueKind.String ? m.GetString()! : m.ToString()) : Datasets.DatasetConfig.UnrecordedResizeMethod;
        if (!Datasets.DatasetConfig.ResizeMethods.Contains(ResizeMethod))
            throw new ShiftBenchException($"{Where("resize_method")} is '{ResizeMethod}': the report knows {string.Join(" and ", Datasets.DatasetConfig.ResizeMethods)}");
        Canvas = Obj(config, "canvas", "canvas");
        CanvasSize = Size(Canvas, "size", "canvas.size", Datasets.InputLimits.MaxCanvasSize);
    }

    public string Name { get; }
    public string Kind { get; }
    public string ResizeMethod { get; }
    public int CanvasSize { get; }
    /// <summary>dataset.config.</summary>
    public JsonElement Config { get; }
    /// <summary>dataset.config.canvas.</summary>
    public JsonElement Canvas { get; }

    public string Where(string field) => $"run.json of dataset '{Name}': dataset.config.{field}";

    public JsonElement Obj(JsonElement e, string field, string path) =>
        e.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Object ? v : throw new ShiftBenchException($"{Where(path)} is missing");

    public int Int(JsonElement e, string field, string path) =>
        e.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : throw new ShiftBenchException($"{Where(path)} is missing or not a number");

    public string Str(JsonElement e, string field, string path) =>
        e.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new ShiftBenchException($"{Where(path)} is missing or not a string");

    /// <summary>A size as a dataset config may hold it (InputLimits): a run.json is read from disk like any input.</summary>
    public int Size(JsonElement e, string field, string path, int limit) =>
        Int(e, field, path) is var v && v is >= 1 && v <= limit ? v
        : throw new ShiftBenchException($"{Where(path)} is {v}: it must be 1..{limit} pixels; rerun that run or delete the folder");

    /// <summary>The source image <paramref name="file"/> (found and checked against its recorded SHA-256), resized to size x size.</summary>
    public RgbaImage Load(string file, int size) => resize(DatasetView.Locate(sources, file, dataDirs, Name), size, size, ResizeMethod);
}
