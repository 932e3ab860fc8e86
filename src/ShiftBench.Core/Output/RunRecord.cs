using System.Text.Json;
using System.Text.Json.Serialization;

namespace ShiftBench.Output;

/// <summary>
/// run.json, the record of one run (docs/output.md): what was run, on what, how, and whether it finished. Written
/// last by a run (its "complete": true is what makes the folder a result) and read by every command that reads runs
/// (report, compare, sweep, merge, reproduce, figure, dataset views) through <see cref="Read"/>.
/// Schema 1 adds schema_version to the format of earlier versions (schema 0: the same fields, no schema_version),
/// which is read the same way; a newer schema is refused in one line. Fields that runs written by earlier versions
/// or by hand may lack are nullable; the ones every reader needs (model, variant, dataset.name, grid, layers) are required.
/// Properties are in the order run.json has always had, so a file reads and writes back byte for byte.
/// </summary>
public sealed record RunRecord
{
    public const int CurrentVersion = 1;
    /// <summary>What a damaged run.json's message tells the user to do.</summary>
    public const string Fix = "rerun that run or delete the folder";

    [JsonPropertyOrder(-1)] public int SchemaVersion { get; init; } = CurrentVersion;
    public string? Tool { get; init; }
    public string? Version { get; init; }
    public string? Command { get; init; }
    public required string Model { get; init; }
    public required string Variant { get; init; }
    public int? FilterSize { get; init; }
    public RunWeights? Weights { get; init; }
    public required RunDataset Dataset { get; init; }
    public int? Stride { get; init; }
    public required RunGrid Grid { get; init; }
    public int? ImageSize { get; init; }
    public required IReadOnlyList<string> Layers { get; init; }
    /// <summary>Anchor name -> [y, x] in offsets, in the order the run wrote them (the grid files' order).</summary>
    public IReadOnlyDictionary<string, int[]> Anchors { get; init; } = new Dictionary<string, int[]>();
    public string? Device { get; init; }
    /// <summary>The number format (fp32, bf16, fp16); runs made before it was recorded computed in <see cref="RunLayout.DefaultPrecision"/>.</summary>
    public string? Precision { get; init; }
    public int? BatchSize { get; init; }
    public RunLibraries? Libraries { get; init; }
    public double? ImagesPerSecond { get; init; }
    /// <summary>How the features were computed (docs/reuse.md); null for a merge of shards, which does not know.</summary>
    public RunReuse? Reuse { get; init; }
    public int? Shards { get; init; }
    /// <summary>
    /// An ONNX run's model: the file's own description (Models.Onnx.OnnxModel.Describe, also in a consistency
    /// summary.json) plus runtime and per-layer tensors. Its shape belongs to the ONNX loader, so it is kept as JSON.
    /// </summary>
    public JsonElement? Onnx { get; init; }
    /// <summary>Module-path layers of a zoo model: module, reduction and output shape per image.</summary>
    public IReadOnlyDictionary<string, RunModule>? Modules { get; init; }
    public RunTimes? Timings { get; init; }
    /// <summary>What the features depend on: a resume or sweep skips a complete run only when it matches.</summary>
    public string? Fingerprint { get; init; }
    public string? FinishedUtc { get; init; }
    public bool Complete { get; init; }
    /// <summary>A `patches` run's patches (each a run in RUN/patches/NAME/); absent for other runs.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Patches { get; init; }
    /// <summary>Extra PNG figures of the run folder for the report page; absent unless something put them there.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Figures { get; init; }

    [JsonIgnore] public string PrecisionOrDefault => Precision ?? RunLayout.DefaultPrecision;

    public static string PathIn(string runDir) => System.IO.Path.Combine(runDir, RunLayout.RunJson);

    /// <summary>runDir/run.json; null when there is none. A damaged file or a newer schema is refused in one line naming the file.</summary>
    public static RunRecord? Read(string runDir) =>
        RecordFile.Read(PathIn(runDir), RecordJson.Default.RunRecord, CurrentVersion,
            legacy: e => (e.Deserialize(RecordJson.Default.RunRecord) ?? throw new JsonException("null")) with { SchemaVersion = 0 }, fix: Fix);

    /// <summary>The record of a complete run in runDir; null when there is none or it has not finished.</summary>
    public static RunRecord? ReadComplete(string runDir) => Read(runDir) is { Complete: true } run ? run : null;

    /// <summary>Written whole (temporary file, then rename), always in the current schema.</summary>
    public void Write(string dir) => RecordFile.Write(PathIn(dir), this with { SchemaVersion = CurrentVersion }, RecordJson.Default.RunRecord);
}

/// <param name="Path">The weights file (full path), or the name of a built-in source such as `deterministic`.</param>
/// <param name="Sha256">Of the weights file; empty when there is no file.</param>
public sealed record RunWeights(string? Path, string? Sha256 = null, string? Url = null);

public sealed record RunDataset
{
    public required string Name { get; init; }
    public string? ConfigPath { get; init; }
    public int? TargetClass { get; init; }
    /// <summary>
    /// The dataset config as run (its YAML fields, snake_case). Its shape belongs to Datasets.DatasetConfig, whose kinds
    /// grow their own fields, so the record keeps it as JSON; Datasets.DatasetView reads it.
    /// </summary>
    public JsonElement? Config { get; init; }
    public IReadOnlyList<RunSource>? Sources { get; init; }
}

/// <summary>One source image of the dataset: its name in the config, the full path read and its SHA-256.</summary>
public sealed record RunSource(string File, string? Path = null, string? Sha256 = null);

/// <param name="Offsets">The offsets along each axis, in offset units.</param>
/// <param name="OffsetPx">Pixels per unit of offset: 1, or kind subpixel's step (its grid y,x count steps); runs before it were 1.</param>
public sealed record RunGrid(int Rows, int Cols, int Stride, IReadOnlyList<int>? Offsets = null, double? OffsetPx = null);

public sealed record RunLibraries(string? Torchsharp = null, string? Dotnet = null, int? TorchThreads = null);

/// <summary>run.json "reuse" (docs/reuse.md): the mode asked for, the method used (null: brute force) and why not, the cost model.</summary>
public sealed record RunReuse(string Mode, string? Method, string? ReusedUntil, string? Fallback, double MacsSkippedShare, IReadOnlyList<RunReuseLayer> Layers);

public sealed record RunReuseLayer(string Module, bool Reused, double ComputedShare);

/// <summary>A module-path layer: the module, how its output is reduced to a feature row, and that output's shape per image.</summary>
public sealed record RunModule(string Module, string Reduction, IReadOnlyList<long> Shape);

/// <summary>Seconds spent per phase of a run.</summary>
public sealed record RunTimes(double LoadSeconds, double DataSeconds, double ForwardSeconds, double WriteSeconds, double GridSeconds, double TotalSeconds);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true, WriteIndented = true)]
[JsonSerializable(typeof(RunRecord))]
[JsonSerializable(typeof(RunDataset))]
[JsonSerializable(typeof(SummaryRecord))]
[JsonSerializable(typeof(ConsistencySummaryRecord))]
[JsonSerializable(typeof(System.Text.Json.Nodes.JsonNode))]
internal sealed partial class RecordJson : JsonSerializerContext;
