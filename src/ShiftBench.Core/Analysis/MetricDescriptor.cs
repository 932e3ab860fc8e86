using ShiftBench.Output;

namespace ShiftBench.Analysis;

/// <summary>The layers of a run whose summary.json entry holds a metric.</summary>
[Flags]
public enum MetricLayers
{
    /// <summary>Feature layers (cosine similarity of features).</summary>
    Features = 1,
    /// <summary>The class layer (target-class probability and top-1).</summary>
    Class = 2,
    /// <summary>`@map` layers (feature-map equivariance).</summary>
    Maps = 4,
}

/// <summary>How a metric's value reads: a number (4 decimals on the report page) or a yes/no.</summary>
public enum MetricFormat { Number, YesNo }

/// <summary>What a derived metric is computed from: its layer's summary.json entry so far, the layer's grid and the run's geometry.</summary>
/// <param name="Grid">The centre anchor's cosine grid (feature layers) or the target-class probability grid (class layer); null where the run has none.</param>
public sealed record MetricInputs(string Layer, LayerSummary Entry, double[,]? Grid, RunSummary.Geometry Geometry);

/// <summary>
/// One metric of summary.json, as every reader of it sees it: its name (the summary.json key, summary.csv's metric
/// and the sweep table's column), the report's label and format, and the layers that have it. A built-in metric is
/// computed by <see cref="InvarianceMetrics"/> in <see cref="RunSummary"/>; a new one may bring <see cref="Derive"/>
/// instead, and is then one descriptor plus its line in <see cref="Metrics"/>: summary.json and summary.csv, compare,
/// gates, the sweep tables and the report's class-metrics table pick it up.
/// </summary>
/// <param name="Name">summary.json key of the layer entry (anchor statistics: `ANCHOR.STAT`, as in summary.csv).</param>
/// <param name="Label">What the report page calls it.</param>
public sealed record MetricDescriptor(string Name, string Label, MetricLayers Layers)
{
    public MetricFormat Format { get; init; } = MetricFormat.Number;

    /// <summary>Whether the sweep tables (sweep-summary.csv and .md) have a column for it, in <see cref="Metrics"/> order.</summary>
    public bool InSweep { get; init; } = true;

    /// <summary>Its row in the report page's class-metrics table (rows ascending); null: not in the table.</summary>
    public int? ReportRow { get; init; }

    /// <summary>
    /// For a metric computed from the others (or from the layer's grid) when summary.json is written: its value, or
    /// null where it is undefined. Null for the built-in metrics, which <see cref="RunSummary"/> computes.
    /// </summary>
    public Func<MetricInputs, double?>? Derive { get; init; }
}
