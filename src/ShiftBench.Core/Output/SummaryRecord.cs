using System.Text.Json;
using System.Text.Json.Serialization;

namespace ShiftBench.Output;

/// <summary>
/// summary.json of a run folder (Analysis.RunSummary computes it; docs/metrics.md names the metrics): per layer, each
/// metric by name, and for a feature layer the statistics of each anchor's grid. Metrics are an open set (name -> value,
/// null where undefined), so a new metric needs no change here. Schema 1 adds schema_version to the earlier format
/// (schema 0), which is read the same way; a newer schema is refused in one line.
/// </summary>
public sealed record SummaryRecord
{
    public const int CurrentVersion = 1;

    [JsonPropertyOrder(-1)] public int SchemaVersion { get; init; } = CurrentVersion;
    /// <summary>Pixels per unit of grid offset; null in summaries made before it was recorded (whole pixels).</summary>
    public double? OffsetPx { get; init; }
    /// <summary>How far apart (pixels) the positions that neighbour metrics compare are.</summary>
    public double? NeighbourPx { get; init; }
    public required IReadOnlyDictionary<string, LayerSummary> Layers { get; init; }

    public static string PathIn(string runDir) => Path.Combine(runDir, RunLayout.SummaryJson);

    /// <summary>runDir/summary.json; null when there is none. A damaged file or a newer schema is refused in one line naming the file.</summary>
    public static SummaryRecord? Read(string runDir) =>
        RecordFile.Read(PathIn(runDir), RecordJson.Default.SummaryRecord, CurrentVersion,
            legacy: e => (e.Deserialize(RecordJson.Default.SummaryRecord) ?? throw new JsonException("null")) with { SchemaVersion = 0 },
            fix: "delete it to compute it again");

    public void Write(string runDir) => RecordFile.Write(PathIn(runDir), this with { SchemaVersion = CurrentVersion }, RecordJson.Default.SummaryRecord);

    /// <summary>Every value as a tidy row: layer metrics by name, anchor statistics as `ANCHOR.STAT`; undefined ones NaN.</summary>
    public IEnumerable<(string Layer, string Metric, double Value)> Rows() =>
        Layers.SelectMany(layer => layer.Value.Metrics.Select(m => (layer.Key, m.Key, m.Value ?? double.NaN))
            .Concat((layer.Value.Anchors ?? []).SelectMany(a => a.Value.Select(s => (layer.Key, $"{a.Key}.{s.Key}", s.Value ?? double.NaN)))));
}

/// <summary>
/// One layer of summary.json: its metrics by name in the order computed (null: undefined, e.g. a one-position grid),
/// then, for a feature layer, each anchor's statistics under "anchors".
/// </summary>
[JsonConverter(typeof(LayerSummaryConverter))]
public sealed class LayerSummary
{
    public OrderedDictionary<string, double?> Metrics { get; } = new();
    /// <summary>Anchor -> statistic (mean, min, std, equivariance) -> value; null for the class layer, which has no anchors.</summary>
    public OrderedDictionary<string, OrderedDictionary<string, double?>>? Anchors { get; set; }

    public double? this[string metric] => Metrics.GetValueOrDefault(metric);
}

/// <summary>A layer's metrics as one flat JSON object (the format summary.json has always had), "anchors" last.</summary>
sealed class LayerSummaryConverter : JsonConverter<LayerSummary>
{
    const string AnchorsField = "anchors";

    public override LayerSummary Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var layer = new LayerSummary();
        Expect(ref reader, JsonTokenType.StartObject, "a layer");
        while (NextProperty(ref reader) is { } name)
        {
            if (name != AnchorsField) { layer.Metrics[name] = Value(ref reader, name); continue; }
            layer.Anchors = [];
            Expect(ref reader, JsonTokenType.StartObject, AnchorsField);
            while (NextProperty(ref reader) is { } anchor)
            {
                var stats = new OrderedDictionary<string, double?>();
                Expect(ref reader, JsonTokenType.StartObject, $"anchor '{anchor}'");
                while (NextProperty(ref reader) is { } stat) stats[stat] = Value(ref reader, $"{anchor}.{stat}");
                layer.Anchors[anchor] = stats;
            }
        }
        return layer;
    }

    static void Expect(ref Utf8JsonReader reader, JsonTokenType token, string what)
    {
        if (reader.TokenType != token) throw new JsonException($"{what} is not a JSON object");
    }

    /// <summary>The next property's name with the reader on its value; null at the end of the object.</summary>
    static string? NextProperty(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.EndObject) return null;
        string name = reader.GetString()!;
        reader.Read();
        return name;
    }

    static double? Value(ref Utf8JsonReader reader, string name) => reader.TokenType switch
    {
        JsonTokenType.Number => reader.GetDouble(),
        JsonTokenType.Null => null,
        _ => throw new JsonException($"metric '{name}' is not a number"),
    };

    public override void Write(Utf8JsonWriter writer, LayerSummary layer, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        WriteValues(writer, layer.Metrics);
        if (layer.Anchors is { } anchors)
        {
            writer.WriteStartObject(AnchorsField);
            foreach (var (anchor, stats) in anchors)
            {
                writer.WriteStartObject(anchor);
                WriteValues(writer, stats);
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
    }

    /// <summary>JSON has no NaN: an undefined value is written as null.</summary>
    static void WriteValues(Utf8JsonWriter writer, OrderedDictionary<string, double?> values)
    {
        foreach (var (name, value) in values)
            if (value is { } v && double.IsFinite(v)) writer.WriteNumber(name, v);
            else writer.WriteNull(name);
    }
}
