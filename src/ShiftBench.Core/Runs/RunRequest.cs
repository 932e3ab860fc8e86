using ShiftBench.Analysis;
using ShiftBench.Datasets;
using ShiftBench.Models;
using ShiftBench.Models.Onnx;
using static TorchSharp.torch;

namespace ShiftBench.Runs;

/// <summary>
/// Where a run's weights come from: a .pth file, or the counter-based synthetic weights of
/// DeterministicWeights (for tests, benchmarks and demos without downloads; never for results).
/// </summary>
public sealed record WeightsSource(string? Path)
{
    public const string DeterministicName = "deterministic";
    public static WeightsSource File(string path) => new(path);
    public static WeightsSource Deterministic() => new((string?)null);
    public override string ToString() => Path ?? DeterministicName;
}

/// <summary>
/// Everything one run needs; built by the CLI (or a sweep) from options and defaults. The network is a zoo
/// entry (<see cref="Model"/>) or an ONNX file (<see cref="Onnx"/>, whose Weights name the same file).
/// </summary>
public sealed record RunRequest
{
    public ModelEntry? Model { get; init; }
    public OnnxModel? Onnx { get; init; }
    public required DatasetConfig Dataset { get; init; }
    public required string DataDir { get; init; }
    public required WeightsSource Weights { get; init; }
    /// <summary>Layer names to write; empty = all layers of the model.</summary>
    public IReadOnlyList<string> Layers { get; init; } = [];
    public IReadOnlyList<string> AnchorSpecs { get; init; } = Anchors.Named;
    public int? Stride { get; init; }
    public int BatchSize { get; init; } = 16;
    public string OutRoot { get; init; } = "out";
    public Device Device { get; init; } = CPU;
    /// <summary>The number format the network computes in (see <see cref="Models.Precision"/>); part of the fingerprint.</summary>
    public Precision Precision { get; init; } = Precision.Fp32;
    public bool Resume { get; init; }
    /// <summary>Which feature matrices the run keeps (--features); grids and metrics are the same either way, so it is not in the fingerprint.</summary>
    public FeatureStorage Features { get; init; } = FeatureStorage.None;
    public double? Vmin { get; init; }
    /// <summary>Draws the grids' pictures (STEM.png beside each STEM.csv); null: grids without pictures. The CLI passes Report.RunHeatmaps.</summary>
    public IRunPictures? Pictures { get; init; }
    public string CommandLine { get; init; } = "";
    /// <summary>Exact reuse across positions (Runs/Reuse): auto (where it applies) or off. Results are the same, so it is not in the fingerprint.</summary>
    public string Reuse { get; init; } = Runs.Reuse.ReuseEngine.Auto;
    /// <summary>Stop after this many positions (benchmarks only); the run is then not complete.</summary>
    public int? MaxPositions { get; init; }

    /// <summary>Compute only this shard's block of positions into RUN/.partial/shard-K-of-N/ (see <see cref="ShardSpec"/>).</summary>
    public ShardSpec? Shard { get; init; }
    /// <summary>Assemble the shards of the run folder into the whole run instead of computing.</summary>
    public bool MergeShards { get; init; }
    /// <summary>The `run` arguments equivalent to this request (kept beside each shard for `merge RUN_DIR`).</summary>
    public IReadOnlyList<string> RunArguments { get; init; } = [];

    /// <summary>Set for the per-patch runs of a `patches` dataset, which live inside the parent run.</summary>
    public string? RunDirectoryOverride { get; init; }

    public string RunDirectory => RunDirectoryOverride ?? Output.RunLayout.RunDirectory(OutRoot, Dataset.Name, ModelName, VariantName);

    /// <summary>The zoo entry; a bug to ask for on an ONNX run.</summary>
    public ModelEntry Zoo => Model ?? throw new InvalidOperationException("not a zoo run");
    /// <summary>run.json's model: the zoo name, or the ONNX file's stem (or --name).</summary>
    public string ModelName => Onnx?.Name ?? Zoo.Model;
    /// <summary>run.json's variant: torchvision, antialiased, or onnx.</summary>
    public string VariantName => Onnx is null ? Zoo.VariantName : OnnxModel.VariantName;

    /// <summary>Layer names to write: the zoo's named layers and module paths (see <see cref="ZooLayers"/>), or the ONNX file's tensors, fc and class.</summary>
    public IReadOnlyList<string> ResolveLayers() =>
        Onnx is { } onnx ? onnx.ResolveLayers(Layers, Dataset.TargetClass) : ZooLayers.Resolve(Zoo, Layers);
}

public sealed record RunResult(string RunDirectory, bool Complete, bool Skipped, int Positions, int PositionsComputed,
    double ImagesPerSecond, RunTimings Timings)
{
    /// <summary>How the features were computed (null when nothing was computed).</summary>
    public Reuse.ReuseRecord? Reuse { get; init; }
    /// <summary>Numbers the streaming metrics kept in memory from batch to batch (tests check it does not grow with positions).</summary>
    internal long HeldValues { get; init; }
}

/// <summary>Seconds spent in each phase of a run.</summary>
public sealed class RunTimings
{
    public double LoadSeconds { get; set; }
    public double DataSeconds { get; set; }
    public double ForwardSeconds { get; set; }
    public double WriteSeconds { get; set; }
    public double GridSeconds { get; set; }
    public double TotalSeconds { get; set; }
}
