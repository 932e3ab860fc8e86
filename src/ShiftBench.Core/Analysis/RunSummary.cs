using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ShiftBench.Models;
using ShiftBench.Output;

namespace ShiftBench.Analysis;

/// <summary>
/// summary.json and summary.csv of a run folder: every metric of InvarianceMetrics per layer.
/// summary.json: {"layers": {LAYER: {"global", "local", "period_y", "period_x", "period_power",
/// "anchors": {ANCHOR: {"mean", "min", "std"}}}, "class": {"mean", "min", "max", "accuracy", "consistency",
/// "local_consistency", "period_y", "period_x", "period_power"}}}.
/// summary.csv: tidy rows `layer,metric,value` (anchor statistics named `ANCHOR.mean` and so on).
/// </summary>
public static class RunSummary
{
    /// <param name="OffsetPx">Pixels per unit of grid offset (run.json grid.offset_px): 1, or a subpixel dataset's step.</param>
    public sealed record Geometry(int Rows, int Cols, int Stride, IReadOnlyList<string> Layers, IReadOnlyList<string> Anchors, int? TargetClass,
        double OffsetPx = 1.0);

    /// <summary>The grid, layers, anchors and target class recorded in runDir/run.json.</summary>
    public static Geometry ReadGeometry(string runDir)
    {
        string path = Path.Combine(runDir, RunLayout.RunJson);
        JsonNode json;
        try { json = JsonNode.Parse(BoundedFile.ReadAllText(path, "run.json")) ?? throw new JsonException("empty"); }
        catch (Exception e) when (e is IOException or JsonException)
        {
            throw new ShiftBenchException($"{path} cannot be read ({e.Message.Split('\n')[0]}); rerun that run");
        }
        T Field<T>(Func<JsonNode, T> read, string name)
        {
            try { return read(json); }
            catch (Exception e) when (e is InvalidOperationException or NullReferenceException or FormatException)
            {
                throw new ShiftBenchException($"{path}: field {name} is missing or malformed; rerun that run to rewrite it");
            }
        }
        return new Geometry(
            Field(j => j["grid"]!["rows"]!.GetValue<int>(), "grid.rows"),
            Field(j => j["grid"]!["cols"]!.GetValue<int>(), "grid.cols"),
            Field(j => j["grid"]!["stride"]!.GetValue<int>(), "grid.stride"),
            Field(j => j["layers"]!.AsArray().Select(l => l!.GetValue<string>()).ToList(), "layers"),
            Field(j => j["anchors"]!.AsObject().Select(a => a.Key).ToList(), "anchors"),
            json["dataset"]?["target_class"] is JsonValue target && target.TryGetValue(out int t) ? t : null,
            // Runs recorded before offset_px existed are whole-pixel grids.
            json["grid"]?["offset_px"] is JsonValue unit && unit.TryGetValue(out double px) ? px : 1.0);
    }

    /// <summary>
    /// Computes the metrics of the files in runDir and writes summary.json and summary.csv. A metric with no
    /// pairs to average (a one-position grid) is null in summary.json and NaN in summary.csv. A run passes its
    /// <paramref name="streamed"/> global, local and centre grid per layer; without them (a folder written before
    /// streaming) they come from its stored features, where it has them.
    /// </summary>
    public static JsonObject Write(string runDir, Geometry g, IReadOnlyDictionary<string, StreamedLayer>? streamed = null)
    {
        var layers = new JsonObject();
        foreach (var layer in g.Layers.Where(l => l != ModelEntry.ClassLayer))
        {
            var entry = new JsonObject();
            string features = Path.Combine(runDir, RunLayout.FeaturesFile(layer));
            var fromRun = streamed?.GetValueOrDefault(layer);
            if (fromRun is not null)
            {
                entry["global"] = Number(fromRun.Global);
                entry["local"] = Number(fromRun.Local);
            }
            else if (File.Exists(features))
            {
                var acc = Accumulate(features, g.Rows, g.Cols);
                entry["global"] = Number(acc.Global);
                entry["local"] = Number(acc.Local);
            }
            var anchors = new JsonObject();
            double[,]? centre = null;
            foreach (var anchor in g.Anchors)
            {
                string csv = Path.Combine(runDir, RunLayout.Csv(RunLayout.CosineStem(layer, anchor)));
                if (!File.Exists(csv)) continue;
                var grid = GridCsv.Read(csv).Grid;
                var s = InvarianceMetrics.Stats(grid);
                anchors[anchor] = new JsonObject { ["mean"] = s.Mean, ["min"] = s.Min, ["std"] = s.Std };
                if (anchor == CentreAnchor) centre = grid;
                string equivariance = Path.Combine(runDir, RunLayout.Csv(RunLayout.EquivarianceStem(layer, anchor)));
                if (File.Exists(equivariance))
                {
                    var (distances, offsets) = GridCsv.Read(equivariance);
                    var a = Anchors.Parse([anchor.Replace('_', ':')], offsets)[0]; // names Y_X stand for the anchor Y:X
                    anchors[anchor]!["equivariance"] = Number(Equivariance.Mean(distances, a.Row, a.Col));
                }
            }
            // An @map layer's equivariance: the mean over its anchors of each anchor's mean distance.
            var perAnchor = anchors.Select(a => a.Value?["equivariance"]).OfType<JsonValue>().Select(v => v.GetValue<double>()).ToList();
            if (perAnchor.Count > 0) entry[Equivariance.Metric] = Number(perAnchor.Average());
            // The period is always that of the centre anchor, so runs with other anchors stay comparable.
            centre ??= fromRun?.Centre;
            if (centre is null && File.Exists(features))
                centre = CosineGrids.Compute(features, g.Rows, g.Cols, [new Anchor(CentreAnchor, g.Rows / 2, g.Cols / 2, 0, 0)])[0];
            if (centre is not null) AddPeriod(entry, centre, g);
            Metrics.AddDerived(MetricLayers.Features | (layer.EndsWith(LayerSpec.MapSuffix) ? MetricLayers.Maps : 0), new MetricInputs(layer, entry, centre, g));
            entry["anchors"] = anchors;
            layers[layer] = entry;
        }
        if (g.Layers.Contains(ModelEntry.ClassLayer) && PatchNames(runDir) is { } patches)
            layers[ModelEntry.ClassLayer] = MeanOverPatches(runDir, patches);
        else if (g.Layers.Contains(ModelEntry.ClassLayer) && File.Exists(Path.Combine(runDir, RunLayout.Csv(RunLayout.ClassStem))) && g.TargetClass is { } target)
        {
            var probability = GridCsv.Read(Path.Combine(runDir, RunLayout.Csv(RunLayout.ClassStem))).Grid;
            string top1Path = Path.Combine(runDir, RunLayout.Top1);
            if (!File.Exists(top1Path))
                throw new ShiftBenchException($"{runDir} has class.csv but no top1.npy; rerun that run to rewrite it");
            var top1 = Npy.ReadInt64(top1Path).Data;
            // Runs made before top5.npy existed have no jaggedness; every other metric needs only top1 and class.csv.
            string top5Path = Path.Combine(runDir, RunLayout.Top5);
            bool[]? inTop5 = null;
            if (File.Exists(top5Path))
            {
                var top5 = Npy.ReadInt64(top5Path).Data;
                int k = top5.Length / Math.Max(1, top1.Length);
                inTop5 = [.. Enumerable.Range(0, top1.Length).Select(i => Array.IndexOf(top5, (long)target, i * k, k) >= 0)];
            }
            var m = InvarianceMetrics.Classes(probability, top1, target, inTop5);
            var entry = new JsonObject
            {
                ["mean"] = m.Mean, ["min"] = m.Min, ["max"] = m.Max, ["accuracy"] = m.Accuracy,
                ["consistency"] = Number(m.Consistency), ["local_consistency"] = Number(m.LocalConsistency),
                ["flip_rate"] = Number(m.FlipRate), ["mac"] = Number(m.MeanAbsoluteChange),
                ["worst_case_correct"] = m.WorstCaseCorrect,
            };
            if (inTop5 is not null) entry["top5_jaggedness"] = Number(m.Top5Jaggedness);
            AddPeriod(entry, probability, g);
            Metrics.AddDerived(MetricLayers.Class, new MetricInputs(ModelEntry.ClassLayer, entry, probability, g));
            layers[ModelEntry.ClassLayer] = entry;
        }
        // Units: grid offsets are offset_px pixels each; neighbour metrics (local, flip_rate, mac, ...) compare positions neighbour_px apart.
        var summary = new JsonObject { ["offset_px"] = g.OffsetPx, ["neighbour_px"] = g.Stride * g.OffsetPx, ["layers"] = layers };
        AtomicFile.WriteAllText(Path.Combine(runDir, RunLayout.SummaryJson), summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        AtomicFile.WriteAllText(Path.Combine(runDir, RunLayout.SummaryCsv), ToCsv(summary));
        return summary;
    }

    /// <summary>The patches of a `patches` run (run.json's "patches"), null for any other run.</summary>
    static IReadOnlyList<string>? PatchNames(string runDir) =>
        RunLayout.ReadRunJson(runDir)?["patches"] is JsonArray names ? [.. names.Select(n => n!.GetValue<string>())] : null;

    /// <summary>
    /// A `patches` run's class metrics: each patch's (against its own target class, from its own top1.npy), averaged
    /// over patches; a metric undefined for any patch is null. The mean probability grid has no top-1 of its own.
    /// </summary>
    static JsonObject MeanOverPatches(string runDir, IReadOnlyList<string> patches)
    {
        var entries = patches.Select(name =>
        {
            string patchDir = Path.Combine(runDir, RunLayout.PatchesFolder, name);
            string path = Path.Combine(patchDir, RunLayout.SummaryJson);
            var summary = File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path))! : Write(patchDir, ReadGeometry(patchDir));
            return summary["layers"]?[ModelEntry.ClassLayer] as JsonObject
                ?? throw new ShiftBenchException($"{patchDir} has no class metrics; rerun the patches run with --layers including class");
        }).ToList();
        var mean = new JsonObject();
        foreach (var metric in entries[0].Select(e => e.Key))
        {
            var values = entries.Select(e => e[metric] is JsonValue v && v.TryGetValue(out double d) ? d : (double?)null).ToList();
            mean[metric] = values.All(v => v is not null) ? Number(values.Average(v => v!.Value)) : null;
        }
        return mean;
    }

    const string CentreAnchor = "c";

    /// <summary>JSON has no NaN: an undefined metric is written as null.</summary>
    static JsonNode? Number(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    /// <summary>period_y/x in grid-offset units (pixels, or a subpixel dataset's steps) and period_y/x_px in pixels.</summary>
    static void AddPeriod(JsonObject entry, double[,] grid, Geometry g)
    {
        var p = InvarianceMetrics.Period(grid, g.Stride);
        entry["period_y"] = p.PeriodY;
        entry["period_x"] = p.PeriodX;
        entry["period_y_px"] = p.PeriodY * g.OffsetPx;
        entry["period_x_px"] = p.PeriodX * g.OffsetPx;
        entry["period_power"] = p.Power;
    }

    static InvarianceMetrics.FeatureAccumulator Accumulate(string path, int rows, int cols)
    {
        using var file = NpyRowFile.OpenRead(path);
        var acc = new InvarianceMetrics.FeatureAccumulator(rows, cols, (int)file.Cols);
        int chunk = (int)Math.Max(1, (32L << 20) / (file.Cols * sizeof(float)));
        var buffer = new float[chunk * file.Cols];
        for (long start = 0; start < file.Rows; start += chunk)
        {
            int count = (int)Math.Min(chunk, file.Rows - start);
            var span = buffer.AsSpan(0, (int)(count * file.Cols));
            file.ReadRows(start, span);
            acc.Add(span);
        }
        return acc;
    }

    /// <summary>
    /// Flattens summary.json into (layer, metric, value) rows, the order of summary.csv. The file is read from disk:
    /// a value that is not a number (a string, say) reads as NaN, and a section that is not an object is skipped.
    /// </summary>
    public static IEnumerable<(string Layer, string Metric, double Value)> Rows(JsonNode summary)
    {
        if (summary["layers"] is not JsonObject layers) yield break;
        foreach (var (layer, node) in layers)
        {
            if (node is not JsonObject metrics) continue;
            foreach (var (metric, value) in metrics)
            {
                if (metric == "anchors")
                {
                    if (value is not JsonObject anchors) continue;
                    foreach (var (anchor, stats) in anchors)
                        if (stats is JsonObject statValues)
                            foreach (var (stat, v) in statValues)
                                yield return (layer, $"{anchor}.{stat}", ValueOf(v));
                }
                else yield return (layer, metric, ValueOf(value));
            }
        }
    }

    static double ValueOf(JsonNode? value) =>
        value is JsonValue v && v.GetValueKind() == JsonValueKind.Number ? v.GetValue<double>() : double.NaN;

    static string ToCsv(JsonNode summary)
    {
        var text = new StringBuilder("layer,metric,value\n");
        foreach (var (layer, metric, value) in Rows(summary))
            text.Append(layer).Append(',').Append(metric).Append(',').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        return text.ToString();
    }
}
