namespace ShiftBench.Output;

/// <summary>
/// The run folder (docs/output.md): where a run lives, the name of every file in it, and what makes
/// it complete. The one owner of these facts: writers (runs, summaries) and readers (report, compare, sweep)
/// all ask here, so a file name or the completeness rule cannot drift between them.
/// </summary>
public static class RunLayout
{
    public const string RunJson = "run.json";
    public const string SummaryJson = "summary.json";
    public const string SummaryCsv = "summary.csv";
    public const string ClassStem = "class";
    public const string Top1 = "top1.npy";
    /// <summary>int64 [positions, 5]: the five best classes per position, best first.</summary>
    public const string Top5 = "top5.npy";
    /// <summary>Unfinished state (row files, progress.json) of a run that has not completed.</summary>
    public const string PartialFolder = ".partial";
    public const string ProgressFile = "progress.json";
    /// <summary>In a work folder: which feature matrices it holds (none, fp32, fp16), so a resume never mixes storages.</summary>
    public const string StoredFeaturesFile = "features.txt";
    /// <summary>In a shard's folder: the `run` arguments that made it (for `shiftbench merge RUN_DIR`).</summary>
    public const string RunArgumentsFile = "args.json";
    /// <summary>Per-patch runs of a `patches` dataset live in RUN/patches/NAME/.</summary>
    public const string PatchesFolder = "patches";
    /// <summary>Suffix of the per-position standard deviation grids of a `patches` run.</summary>
    public const string StdSuffix = "-std";

    /// <summary>OUT/&lt;dataset name&gt;/&lt;model&gt;/&lt;variant&gt;: the dataset's config name, never its file path.</summary>
    public static string RunDirectory(string outRoot, string datasetName, string model, string variant) =>
        Path.Combine(outRoot, datasetName, model, variant);

    /// <summary>`shiftbench consistency` results: OUT/consistency/&lt;model&gt;/&lt;variant&gt;/&lt;images folder name&gt;.</summary>
    public static string ConsistencyDirectory(string outRoot, string model, string variant, string imagesFolder) =>
        Path.Combine(outRoot, ConsistencyFolder, model, variant, FolderName(imagesFolder));

    /// <summary>`shiftbench consistency --diagonal` results: OUT/diagonal/&lt;model&gt;/&lt;variant&gt;/&lt;images folder name&gt;.</summary>
    public static string DiagonalDirectory(string outRoot, string model, string variant, string imagesFolder) =>
        Path.Combine(outRoot, DiagonalFolder, model, variant, FolderName(imagesFolder));

    public const string ConsistencyFolder = "consistency";
    public const string DiagonalFolder = "diagonal";
    /// <summary>consistency: one row per pair of crops.</summary>
    public const string PairsCsv = "pairs.csv";
    /// <summary>consistency --diagonal: one row per diagonal shift; .png and .svg beside it.</summary>
    public const string DiagonalStem = "diagonal";
    /// <summary>consistency: per crop (top-1 class, target probability) while a run is unfinished, in .partial.</summary>
    public const string CropsFile = "crops.npy";

    static string FolderName(string folder) => Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)));

    /// <summary>The variants with a complete run of this model on this dataset below outRoot, sorted.</summary>
    public static IReadOnlyList<string> CompleteVariants(string outRoot, string datasetName, string model)
    {
        string modelDir = Path.Combine(outRoot, datasetName, model);
        return Directory.Exists(modelDir)
            ? [.. Directory.EnumerateDirectories(modelDir).Where(IsComplete).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)]
            : [];
    }

    public static string FeaturesFile(string layer) => $"features-{layer}.npy";

    /// <summary>cos-LAYER-ANCHOR (add .csv or .png).</summary>
    public static string CosineStem(string layer, string anchor) => $"cos-{layer}-{anchor}";

    /// <summary>Feature-map equivariance of an `@map` layer against one anchor (docs/metrics.md): .csv and .png.</summary>
    public static string EquivarianceStem(string layer, string anchor) => $"equiv-{layer}-{anchor}";

    public static string Csv(string stem) => stem + ".csv";
    public static string Png(string stem) => stem + ".png";

    /// <summary>run.json's number format (fp32, bf16, fp16), also a fingerprint key when not fp32.</summary>
    public const string PrecisionField = "precision";
    /// <summary>What run.json files without <see cref="PrecisionField"/> (made before it existed) computed in.</summary>
    public const string DefaultPrecision = "fp32";

    /// <summary>
    /// The first run below outRoot (any depth, e.g. OUT/stride-N or a patches run) or consistency result
    /// (OUT/consistency, OUT/diagonal: summary.json) recorded with another precision; null if none.
    /// </summary>
    public static (string RunDir, string Precision, bool Consistency)? RunOfOtherPrecision(string outRoot, string precision)
    {
        if (!Directory.Exists(outRoot)) return null;
        var runs = FolderScan.Files(outRoot, RunJson).Select(p => (Dir: Path.GetDirectoryName(p)!, Consistency: false));
        var consistency = new[] { ConsistencyFolder, DiagonalFolder }.Select(f => Path.Combine(outRoot, f)).Where(Directory.Exists)
            .SelectMany(d => FolderScan.Files(d, SummaryJson)).Select(p => (Dir: Path.GetDirectoryName(p)!, Consistency: true));
        foreach (var (dir, isConsistency) in runs.Concat(consistency))
        {
            string? recorded;
            try { recorded = isConsistency ? ConsistencySummaryRecord.Read(dir)?.PrecisionOrDefault : RunRecord.Read(dir)?.PrecisionOrDefault; }
            catch (RecordException) { continue; } // not a result this shiftbench reads (damaged, foreign): of no precision
            if (recorded is not null && recorded != precision) return (dir, recorded, isConsistency);
        }
        return null;
    }

    /// <summary>A run is complete when run.json (written last) says "complete": true.</summary>
    public static bool IsComplete(string runDir) => RunRecord.ReadComplete(runDir) is not null;

    /// <summary>Called when a run (re)starts: the folder stops claiming to be complete before any file changes.</summary>
    public static void MarkIncomplete(string runDir) => File.Delete(Path.Combine(runDir, RunJson));
}
