using System.Text.Json;
using System.Text.Json.Serialization;

namespace ShiftBench.Output;

/// <summary>
/// summary.json of `shiftbench consistency` (OUT/consistency/...: protocol "consistency", random pairs of crops) and
/// `consistency --diagonal` (OUT/diagonal/...: protocol "diagonal"): what was run and the shares with their intervals.
/// Written last ("complete": true makes the folder a result). Fields of the other protocol are absent. Schema 1 adds
/// schema_version to the earlier format (schema 0), which is read the same way; a newer schema is refused in one line.
/// </summary>
public sealed record ConsistencySummaryRecord
{
    public const int CurrentVersion = 1;
    public const string PairsProtocol = "consistency", DiagonalProtocol = "diagonal";

    [JsonPropertyOrder(-1)] public int SchemaVersion { get; init; } = CurrentVersion;
    public required string Protocol { get; init; }
    public string? Tool { get; init; }
    public string? CommandLine { get; init; }
    public required string Model { get; init; }
    public required string Variant { get; init; }
    public string? Weights { get; init; }
    public string? WeightsSha256 { get; init; }
    /// <summary>An ONNX network's own description (Models.Onnx.OnnxModel.Describe, as in run.json), kept as JSON: its shape is the loader's.</summary>
    public JsonElement? Onnx { get; init; }
    public string? Images { get; init; }
    public int? ImageCount { get; init; }
    public string? Labels { get; init; }
    public int? Resize { get; init; }
    public int? Crop { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? PairsPerImage { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? MaxShift { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public ulong? Seed { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Generator { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? Pairs { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? Shifts { get; init; }
    public string? Interval { get; init; }
    /// <summary>Pairs protocol: the share of pairs whose two crops get the same top-1 class.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public SharePercent? Consistency { get; init; }
    /// <summary>Diagonal protocol: the target class's mean probability over all shifts and images.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? MeanTargetProb { get; init; }
    /// <summary>Share of correct crops; null for unlabelled images.</summary>
    public SharePercent? Accuracy { get; init; }
    public string? Device { get; init; }
    public int? BatchSize { get; init; }
    public string? Precision { get; init; }
    public double? CropsPerSecond { get; init; }
    public string? Fingerprint { get; init; }
    public string? FinishedUtc { get; init; }
    public bool Complete { get; init; }

    [JsonIgnore] public string PrecisionOrDefault => Precision ?? RunLayout.DefaultPrecision;

    public static string PathIn(string runDir) => Path.Combine(runDir, RunLayout.SummaryJson);

    /// <summary>runDir/summary.json; null when there is none. A damaged file or a newer schema is refused in one line naming the file.</summary>
    public static ConsistencySummaryRecord? Read(string runDir) =>
        RecordFile.Read(PathIn(runDir), RecordJson.Default.ConsistencySummaryRecord, CurrentVersion,
            legacy: e => (e.Deserialize(RecordJson.Default.ConsistencySummaryRecord) ?? throw new JsonException("null")) with { SchemaVersion = 0 },
            fix: "run it again without --resume");

    public void Write(string dir) => RecordFile.Write(PathIn(dir), this with { SchemaVersion = CurrentVersion }, RecordJson.Default.ConsistencySummaryRecord);
}

/// <summary>A share in percent with its 95% interval, and what it counts: <paramref name="Count"/> of <paramref name="Of"/> <paramref name="Counts"/>.</summary>
public sealed record SharePercent(double Percent, double Low, double High, long Count, long Of, string Counts);
