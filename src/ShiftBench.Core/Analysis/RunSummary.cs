using System.Globalization;
using System.Text;
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
        var run = RunRecord.Read(runDir) ?? throw new ShiftBenchException($"{RunRecord.PathIn(runDir)} is missing; rerun that run");
        // Runs recorded before offset_px existed are whole-pixel grids.
        return new Geometry(run.Grid.Rows, run.Grid.Cols, run.Grid.Stride, run.Layers, [.. run.Anchors.Keys], run.Dataset.TargetClass, run.Grid.OffsetPx ?? 1.0);
    }

    /// <summary>
    /// Computes the metrics of the files in runDir and writes summary.json and summary.csv. A metric with no
    /// pairs to average (a one-position grid) is null in summary.json and NaN in summary.csv. A run passes its
    /// <paramref name="streamed"/> global, local and centre grid per layer; without them (a folder written before
    /// streaming) they come from its stored features, where it has them.
    /// </summary>
    public static SummaryRecord Write(string runDir, Geometry g, IReadOnlyDictionary<string, StreamedLayer>? streamed = null)
    {
        var layers = new OrderedDictionary<string, LayerSummary>();
        foreach (var layer in g.Layers.Where(l => l != ModelEntry.ClassLayer))
        {
            var entry = new LayerSummary();
            string features = Path.Combine(runDir, RunLayout.FeaturesFile(layer));
            var fromRun = streamed?.GetValueOrDefault(layer);
            if (fromRun is not null)
            {
                entry.Metrics["global"] = fromRun.Global;
                entry.Metrics["local"] = fromRun.Local;
            }
            else if (File.Exists(features))
            {
                var acc = Accumulate(features, g.Rows, g.Cols);
                entry.Metrics["global"] = acc.Global;
                entry.Metrics["local"] = acc.Local;
            }
            var anchors = new OrderedDictionary<string, OrderedDictionary<string, double?>>();
            double[,]? centre = null;
            foreach (var anchor in g.Anchors)
            {
                string csv = Path.Combine(runDir, RunLayout.Csv(RunLayout.CosineStem(layer, anchor)));
                if (!File.Exists(csv)) continue;
                var grid = GridCsv.Read(csv).Grid;
                var s = InvarianceMetrics.Stats(grid);
                anchors[anchor] = new() { ["mean"] = s.Mean, ["min"] = s.Min, ["std"] = s.Std };
                if (anchor == CentreAnchor) centre = grid;
                string equivariance = Path.Combine(runDir, RunLayout.Csv(RunLayout.EquivarianceStem(layer, anchor)));
                if (File.Exists(equivariance))
                {
                    var (distances, offsets) = GridCsv.Read(equivariance);
                    var a = Anchors.Parse([anchor.Replace('_', ':')], offsets)[0]; // names Y_X stand for the anchor Y:X
                    anchors[anchor][Equivariance.Metric] = Equivariance.Mean(distances, a.Row, a.Col);
                }
            }
            // An @map layer's equivariance: the mean over its anchors of each anchor's mean distance.
            var perAnchor = anchors.Values.Select(a => a.GetValueOrDefault(Equivariance.Metric)).Where(Defined).Select(v => v!.Value).ToList();
            if (perAnchor.Count > 0) entry.Metrics[Equivariance.Metric] = perAnchor.Average();
            // The period is always that of the centre anchor, so runs with other anchors stay comparable.
            centre ??= fromRun?.Centre;
            if (centre is null && File.Exists(features))
                centre = CosineGrids.Compute(features, g.Rows, g.Cols, [new Anchor(CentreAnchor, g.Rows / 2, g.Cols / 2, 0, 0)])[0];
            if (centre is not null) AddPeriod(entry, centre, g);
            Metrics.AddDerived(MetricLayers.Features | (layer.EndsWith(LayerSpec.MapSuffix) ? MetricLayers.Maps : 0), new MetricInputs(layer, entry, centre, g));
            entry.Anchors = anchors;
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
            var entry = new LayerSummary();
            entry.Metrics["mean"] = m.Mean; entry.Metrics["min"] = m.Min; entry.Metrics["max"] = m.Max; entry.Metrics["accuracy"] = m.Accuracy;
            entry.Metrics["consistency"] = m.Consistency; entry.Metrics["local_consistency"] = m.LocalConsistency;
            entry.Metrics["flip_rate"] = m.FlipRate; entry.Metrics["mac"] = m.MeanAbsoluteChange;
            entry.Metrics["worst_case_correct"] = m.WorstCaseCorrect;
            if (inTop5 is not null) entry.Metrics["top5_jaggedness"] = m.Top5Jaggedness;
            AddPeriod(entry, probability, g);
            Metrics.AddDerived(MetricLayers.Class, new MetricInputs(ModelEntry.ClassLayer, entry, probability, g));
            layers[ModelEntry.ClassLayer] = entry;
        }
        // Units: grid offsets are offset_px pixels each; neighbour metrics (local, flip_rate, mac, ...) compare positions neighbour_px apart.
        // Undefined metrics (no pairs to average: a one-position grid) are null in summary.json, never NaN.
        foreach (var layer in layers.Values)
            foreach (var values in layer.Anchors?.Values.Append(layer.Metrics) ?? [layer.Metrics])
                foreach (var name in values.Keys.ToList())
                    if (!Defined(values[name])) values[name] = null;
        var summary = new SummaryRecord { OffsetPx = g.OffsetPx, NeighbourPx = g.Stride * g.OffsetPx, Layers = layers };
        summary.Write(runDir);
        AtomicFile.WriteAllText(Path.Combine(runDir, RunLayout.SummaryCsv), ToCsv(summary));
        return summary;
    }

    /// <summary>The patches of a `patches` run (run.json's "patches"), null for any other run.</summary>
    static IReadOnlyList<string>? PatchNames(string runDir) => RunRecord.Read(runDir)?.Patches;

    /// <summary>
    /// A `patches` run's class metrics: each patch's (against its own target class, from its own top1.npy), averaged
    /// over patches; a metric undefined for any patch is null. The mean probability grid has no top-1 of its own.
    /// </summary>
    static LayerSummary MeanOverPatches(string runDir, IReadOnlyList<string> patches)
    {
        var entries = patches.Select(name =>
        {
            string patchDir = Path.Combine(runDir, RunLayout.PatchesFolder, name);
            var summary = SummaryRecord.Read(patchDir) ?? Write(patchDir, ReadGeometry(patchDir));
            return summary.Layers.GetValueOrDefault(ModelEntry.ClassLayer)
                ?? throw new ShiftBenchException($"{patchDir} has no class metrics; rerun the patches run with --layers including class");
        }).ToList();
        var mean = new LayerSummary();
        foreach (var metric in entries[0].Metrics.Keys)
        {
            var values = entries.Select(e => e[metric]).ToList();
            mean.Metrics[metric] = values.All(Defined) ? values.Average(v => v!.Value) : null;
        }
        return mean;
    }

    const string CentreAnchor = "c";

    /// <summary>A metric with a value: JSON has no NaN, so an undefined one is null.</summary>
    static bool Defined(double? value) => value is { } v && double.IsFinite(v);

    /// <summary>period_y/x in grid-offset units (pixels, or a subpixel dataset's steps) and period_y/x_px in pixels.</summary>
    static void AddPeriod(LayerSummary entry, double[,] grid, Geometry g)
    {
        var p = InvarianceMetrics.Period(grid, g.Stride);
        entry.Metrics["period_y"] = p.PeriodY;
        entry.Metrics["period_x"] = p.PeriodX;
        entry.Metrics["period_y_px"] = p.PeriodY * g.OffsetPx;
        entry.Metrics["period_x_px"] = p.PeriodX * g.OffsetPx;
        entry.Metrics["period_power"] = p.Power;
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

    /// <summary>Flattens summary.json into (layer, metric, value) rows, the order of summary.csv; undefined values are NaN.</summary>
    public static IEnumerable<(string Layer, string Metric, double Value)> Rows(SummaryRecord summary) => summary.Rows();

    static string ToCsv(SummaryRecord summary)
    {
        var text = new StringBuilder("layer,metric,value\n");
        foreach (var (layer, metric, value) in Rows(summary))
            text.Append(layer).Append(',').Append(metric).Append(',').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        return text.ToString();
    }
}
