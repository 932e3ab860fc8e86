using System.Text.Json.Nodes;

namespace ShiftBench.Analysis;

/// <summary>
/// Every metric of summary.json (docs/metrics.md), in the order of the sweep tables' columns. A new metric: one
/// descriptor here (or in its own file, added with <see cref="Register"/>); sweep columns, the report's table and
/// labels, and (for a <see cref="MetricDescriptor.Derive"/>d metric) summary.json read the registry.
/// </summary>
public static class Metrics
{
    static readonly MetricLayers Both = MetricLayers.Features | MetricLayers.Class;

    static readonly List<MetricDescriptor> metrics =
    [
        new(DepthProfile.DefaultMetric, "global similarity (all position pairs)", MetricLayers.Features),
        new("local", "local similarity (neighbours)", MetricLayers.Features),
        new("c.mean", "mean cosine with the centre anchor", MetricLayers.Features),
        new("c.min", "least cosine with the centre anchor", MetricLayers.Features),
        new("period_x", "period x (grid offsets)", Both),
        new("period_y", "period y (grid offsets)", Both),
        new("period_x_px", "class period x (px)", Both) { ReportRow = 9 },
        new("period_y_px", "class period y (px)", Both) { ReportRow = 8 },
        new("mean", "mean target probability", MetricLayers.Class),
        new("accuracy", "accuracy (target is top-1)", MetricLayers.Class) { ReportRow = 1 },
        new("consistency", "consistency (all position pairs)", MetricLayers.Class) { ReportRow = 2 },
        new("local_consistency", "local consistency (neighbours)", MetricLayers.Class) { ReportRow = 3 },
        new("flip_rate", "flip rate (neighbours)", MetricLayers.Class) { ReportRow = 4 },
        new("top5_jaggedness", "top-5 jaggedness (neighbours)", MetricLayers.Class) { ReportRow = 5 },
        new("mac", "mean absolute change of p (neighbours)", MetricLayers.Class) { ReportRow = 6 },
        new("worst_case_correct", "worst-case correct", MetricLayers.Class) { ReportRow = 7, Format = MetricFormat.YesNo },
        new(Equivariance.Metric, "equivariance (cosine distance, lower is more equivariant)", MetricLayers.Maps),
        // In summary.json and summary.csv, not in the sweep tables.
        new("min", "least target probability", MetricLayers.Class) { InSweep = false },
        new("max", "greatest target probability", MetricLayers.Class) { InSweep = false },
        new("period_power", "share of the non-DC power at the period", Both) { InSweep = false },
    ];
    static readonly Lock gate = new();

    public static IReadOnlyList<MetricDescriptor> All { get { lock (gate) return [.. metrics]; } }

    /// <summary>The metric named <paramref name="name"/>, or null.</summary>
    public static MetricDescriptor? Find(string name) => All.FirstOrDefault(m => m.Name == name);

    /// <summary>The sweep tables' metric columns, in order.</summary>
    public static IReadOnlyList<string> SweepColumns => [.. All.Where(m => m.InSweep).Select(m => m.Name)];

    /// <summary>The report page's class-metrics table, in row order.</summary>
    public static IReadOnlyList<MetricDescriptor> ReportTable => [.. All.Where(m => m.ReportRow is not null).OrderBy(m => m.ReportRow)];

    /// <summary>Adds a metric (a plug-in's or a test's) after the built-in ones; a name already taken is a programming error.</summary>
    public static void Register(MetricDescriptor metric)
    {
        lock (gate)
        {
            if (metrics.Any(m => m.Name == metric.Name)) throw new InvalidOperationException($"metric '{metric.Name}' is registered already");
            metrics.Add(metric);
        }
    }

    /// <summary>Removes a metric that <see cref="Register"/> added (tests clean up after themselves).</summary>
    public static void Unregister(MetricDescriptor metric)
    {
        lock (gate) metrics.Remove(metric);
    }

    /// <summary>Adds to a layer's summary.json entry every derived metric a layer of these kinds has (null where undefined).</summary>
    internal static void AddDerived(MetricLayers layer, MetricInputs inputs)
    {
        foreach (var metric in All.Where(m => m.Derive is not null && (m.Layers & layer) != 0))
            inputs.Entry.Metrics[metric.Name] = metric.Derive!(inputs) is { } v && double.IsFinite(v) ? v : null;
    }
}
