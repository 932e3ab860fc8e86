using System.Globalization;
using System.Text.Json;
using System.Text;
using ShiftBench.Analysis;
using ShiftBench.Datasets;
using ShiftBench.Models;
using ShiftBench.Models.Onnx;
using ShiftBench.Output;
using ShiftBench.Runs;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace ShiftBench.Workflows;

/// <summary>
/// A sweep file (see configs/ci-sweep.yaml): models x variants x datasets x strides, optionally layers,
/// anchors, weights and batch size, written below `out` (below `out/stride-N` when several strides).
/// </summary>
public sealed class SweepSpec
{
    public string Out { get; set; } = "out";
    public List<string> Models { get; set; } = [];
    public List<string> Variants { get; set; } = ["torchvision", "antialiased"];
    public List<string> Datasets { get; set; } = [];
    public List<int> Strides { get; set; } = [1];
    public List<string> Layers { get; set; } = [];
    public List<string> Anchors { get; set; } = [];
    /// <summary>null: the published files in the weights folder; `deterministic`: synthetic weights.</summary>
    public string? Weights { get; set; }
    public int? BatchSize { get; set; }
    /// <summary>fp32 (default), bf16 or fp16 for every cell (`sweep --precision` overrides it); checked by <see cref="Load"/>.</summary>
    public string Precision { get; set; } = RunLayout.DefaultPrecision;
    /// <summary>Feature matrices every cell keeps (as `run --features`): null (none), fp32 or fp16; checked by <see cref="Load"/>.</summary>
    public string? Features { get; set; }
    /// <summary>#SBATCH options for `sweep --slurm`.</summary>
    public SlurmOptions? Slurm { get; set; }
    /// <summary>CI gates over the runs' metrics (see <see cref="Gate"/>); a failed gate fails the sweep.</summary>
    public List<string> Gates { get; set; } = [];

    /// <summary>The gates, parsed and checked by <see cref="Load"/>.</summary>
    [YamlIgnore]
    public IReadOnlyList<Gate> ParsedGates { get; private set; } = [];

    /// <summary>The variant names for one model: `both` and `all` expanded, duplicates dropped.</summary>
    public IReadOnlyList<string> VariantsOf(string model) => ModelRegistry.ParseVariants(string.Join(',', Variants), model);

    static readonly IDeserializer Yaml = new DeserializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance).Build();

    public static SweepSpec Load(string path)
    {
        SweepSpec spec;
        if (!File.Exists(path)) throw new ShiftBenchException($"sweep file {path} does not exist");
        try { spec = Yaml.Deserialize<SweepSpec>(BoundedFile.ReadAllText(path, "sweep file", InputLimits.MaxConfigBytes)) ?? new SweepSpec(); }
        catch (YamlException e)
        {
            throw new ShiftBenchException($"{path}: invalid sweep at line {e.Start.Line}: {(e.InnerException?.Message ?? e.Message).Split('\n')[0]} (fields: out, models, variants, datasets, strides, layers, anchors, weights, batch_size, precision, features, gates, slurm)");
        }
        if (spec.Models.Count == 0) throw new ShiftBenchException($"{path}: models is empty; list at least one, e.g. models: [alexnet]");
        if (spec.Datasets.Count == 0) throw new ShiftBenchException($"{path}: datasets is empty; list at least one, e.g. datasets: [berry]");
        if (spec.Strides.Any(s => s < 1)) throw new ShiftBenchException($"{path}: strides must be 1 or more");
        spec.Precision = Precisions.Parse(spec.Precision, $"{path}: precision").Name();
        try { FeatureStorages.Parse(spec.Features); }
        catch (ShiftBenchException e) { throw new ShiftBenchException($"{path}: features: {e.Message}"); }
        if (spec.Variants.Count == 0) throw new ShiftBenchException($"{path}: variants is empty; list torchvision, antialiased, both, all or variant names");
        // Typos in closed lists are caught before any cell runs (datasets may also be config files, checked per cell).
        var variantNames = ModelRegistry.VariantNames.Concat(["both", "all"]).ToList();
        foreach (var variant in spec.Variants.Where(v => !variantNames.Contains(v)))
            throw new ShiftBenchException($"{path}: unknown variant '{variant}' in variants; use {string.Join(", ", variantNames)}");
        var known = ModelRegistry.ModelNames.ToHashSet();
        foreach (var model in spec.Models.Where(m => !known.Contains(m) && !OnnxModel.IsOnnxPath(m)))
            throw new ShiftBenchException($"{path}: unknown model '{model}' in models; choose from {string.Join(", ", known)} or give a PATH.onnx");
        // ONNX files are read now, so a bad file stops the sweep before any cell runs.
        foreach (var model in spec.Models.Where(OnnxModel.IsOnnxPath)) OnnxModel.Load(model);
        foreach (var model in spec.Models.Where(m => !OnnxModel.IsOnnxPath(m)))
        {
            var variants = spec.VariantsOf(model);
            var has = ModelRegistry.VariantsOf(model);
            foreach (var variant in variants.Where(v => !has.Contains(v)))
                throw new ShiftBenchException($"{path}: model {model} has no {variant} weights (variants); it has {string.Join(", ", has)}");
        }
        var cells = Sweep.Cells(spec);
        var datasetNames = cells.Select(c => c.DatasetName).Distinct().ToList();
        spec.ParsedGates = [.. spec.Gates.Select(g => Gate.Parse(g, cells.Select(c => c.Model).Distinct().ToList(), datasetNames,
            cells.Select(c => c.Variant).Distinct().ToList(), $"{path}: gates"))];
        return spec;
    }
}

/// <summary>
/// One run of a sweep. Dataset is as the sweep file names it (a name or a YAML path); Config is that dataset
/// resolved, or null with ConfigError when it cannot be (the cell then fails alone). The run folder is named by
/// the config's own name, exactly as `run` names it. An ONNX file's cell has its stem as Model, variant onnx.
/// </summary>
public sealed record SweepCell(string Model, string Variant, string Dataset, DatasetConfig? Config, string? ConfigError,
    int Stride, string OutRoot, SweepSpec Spec, string? OnnxPath = null)
{
    public string DatasetName => Config?.Name ?? Dataset;
    public string Name => $"{Model}/{Variant}/{DatasetName}/stride-{Stride}";
    public string RunDirectory => RunLayout.RunDirectory(OutRoot, DatasetName, Model, Variant);
}

public sealed record SweepOutcome(SweepCell Cell, string Status, string? Error);

/// <summary>The summary files a sweep writes in its `out` folder.</summary>
public static class SweepFiles
{
    public const string SummaryCsv = "sweep-summary.csv";
    public const string SummaryMarkdown = "sweep-summary.md";
}

/// <summary>
/// Runs the cells one after another: complete runs are skipped, a failed cell is recorded and the
/// sweep goes on; then OUT/sweep-summary.csv and .md list one row per run x layer.
/// </summary>
public static class Sweep
{
    static string OutRootFor(SweepSpec spec, int stride) =>
        spec.Strides.Distinct().Count() > 1 ? Path.Combine(spec.Out, $"stride-{stride}") : spec.Out;

    public static IReadOnlyList<SweepCell> Cells(SweepSpec spec)
    {
        var datasets = spec.Datasets.Distinct().Select(d =>
        {
            try { return (Text: d, Config: DatasetCatalog.Resolve(d), Error: (string?)null); }
            catch (ShiftBenchException e) { return (Text: d, Config: (DatasetConfig?)null, Error: e.Message); }
        }).ToList();
        return (from model in spec.Models.Distinct()
               let onnx = OnnxModel.IsOnnxPath(model)
               from variant in onnx ? [OnnxModel.VariantName] : spec.VariantsOf(model)
                from dataset in datasets
                from stride in spec.Strides.Distinct()
                select new SweepCell(onnx ? Path.GetFileNameWithoutExtension(model) : model, variant, dataset.Text, dataset.Config, dataset.Error,
                    stride, OutRootFor(spec, stride), spec, onnx ? Path.GetFullPath(model) : null)).ToList();
    }

    /// <summary>
    /// True when the cell's folder holds a complete run made with this cell's settings: model, variant,
    /// stride, the dataset's resize_method, kind of weights, and at least the requested layers and anchors. A complete run made with
    /// other settings (say the stride was changed in the sweep file) is run again, never reported as this cell.
    /// </summary>
    public static bool IsComplete(SweepCell cell)
    {
        if (RunRecord.ReadComplete(cell.RunDirectory) is not { } run) return false;
        if (run.Model != cell.Model || run.Variant != cell.Variant || run.Grid.Stride != cell.Stride) return false;
        if (run.PrecisionOrDefault != cell.Spec.Precision) return false;
        string resize = run.Dataset.Config is { ValueKind: JsonValueKind.Object } recorded && recorded.TryGetProperty("resize_method", out var method)
            && method.ValueKind == JsonValueKind.String ? method.GetString()! : DatasetConfig.UnrecordedResizeMethod;
        if (cell.Config is { } config && resize != config.ResizeMethod) return false;
        string? weights = run.Weights?.Path;
        bool sameWeights = cell.OnnxPath is not null ? weights == cell.OnnxPath : cell.Spec.Weights switch
        {
            null => weights is not null && weights != WeightsSource.DeterministicName,
            WeightsSource.DeterministicName => weights == WeightsSource.DeterministicName,
            var file => weights == Path.GetFullPath(file),
        };
        return sameWeights && RequestedLayers(cell).All(run.Layers.Contains) && RequestedAnchorNames(cell).All(run.Anchors.ContainsKey);
    }

    static IEnumerable<string> RequestedLayers(SweepCell cell)
    {
        if (cell.OnnxPath is null)
        {
            // The names the runner writes (module paths as written, `stages` expanded).
            var entry = ModelRegistry.All.FirstOrDefault(e => e.Model == cell.Model && e.VariantName == cell.Variant);
            return entry is null ? [] : ZooLayers.Resolve(entry, cell.Spec.Layers);
        }
        return cell.Spec.Layers.SelectMany(l => l.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(LayerSpec.FileSafe).ToList();
    }

    /// <summary>Anchor names as the runner writes them: tl..br lower case, `Y:X` as `Y_X`.</summary>
    static IEnumerable<string> RequestedAnchorNames(SweepCell cell) =>
        (cell.Spec.Anchors.Count > 0 ? cell.Spec.Anchors : (IEnumerable<string>)Anchors.Named)
        .SelectMany(a => a.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        .Select(a => a.Contains(':') ? a.Replace(':', '_') : a.ToLowerInvariant());

    public static IReadOnlyList<SweepOutcome> Run(SweepSpec spec, Func<SweepCell, CancellationToken, Task> runCell, CancellationToken cancel = default)
    {
        var outcomes = new List<SweepOutcome>();
        foreach (var cell in Cells(spec))
        {
            cancel.ThrowIfCancellationRequested();
            if (IsComplete(cell))
            {
                outcomes.Add(new SweepOutcome(cell, "skipped", null));
                continue;
            }
            try
            {
                runCell(cell, cancel).GetAwaiter().GetResult();
                outcomes.Add(new SweepOutcome(cell, "done", null));
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested) { throw; }
            catch (Exception e)
            {
                outcomes.Add(new SweepOutcome(cell, "failed", e.Message.Split('\n')[0]));
            }
        }
        WriteSummary(spec.Out, outcomes, EvaluateGates(spec));
        return outcomes;
    }

    /// <summary>Every gate of the sweep file in every model x dataset x stride of the sweep, from the runs' summaries.</summary>
    public static IReadOnlyList<GateResult> EvaluateGates(SweepSpec spec)
    {
        var scopes = Cells(spec).Select(c => (c.Model, c.DatasetName, c.Stride)).Distinct().ToList();
        return [.. spec.ParsedGates.SelectMany(g => g.Evaluate(scopes,
            (model, dataset, stride, variant) => Comparison.Summary(RunLayout.RunDirectory(OutRootFor(spec, stride), dataset, model, variant))))];
    }

    /// <summary>JUnit test cases: one per cell (failed when the cell failed) and one per gate and scope.</summary>
    public static IReadOnlyList<JUnitCase> JUnitCases(IReadOnlyList<SweepOutcome> outcomes, IReadOnlyList<GateResult> gates) =>
    [
        .. outcomes.Select(o => new JUnitCase("shiftbench.sweep.cells", o.Cell.Name, o.Status == "failed" ? o.Error ?? "failed" : null, o.Status)),
        .. gates.Select(g => new JUnitCase("shiftbench.sweep.gates", g.Name, g.Passed ? null : g.Detail, g.Detail)),
    ];

    /// <summary>The real cell runner: one `run` with the sweep's settings.</summary>
    public static void RunCell(SweepCell cell, string dataDir, string weightsDir, IProgress<ProgressUpdate>? progress, CancellationToken cancel,
        ShardSpec? shard = null, bool merge = false, string reuse = Runs.Reuse.ReuseEngine.Auto)
    {
        var dataset = cell.Config ?? throw new ShiftBenchException(cell.ConfigError ?? $"dataset '{cell.Dataset}' cannot be read");
        if (cell.OnnxPath is { } onnxPath)
        {
            if (shard is not null || merge)
                throw new ShiftBenchException($"{cell.Name}: ONNX models are not sharded yet (Slurm sweeps); run this sweep without --slurm");
            var onnx = OnnxModel.Load(onnxPath);
            ExperimentRunner.Run(new RunRequest
            {
                Onnx = onnx, Dataset = dataset, DataDir = dataDir, Weights = WeightsSource.File(onnx.Path),
                Layers = cell.Spec.Layers, AnchorSpecs = cell.Spec.Anchors.Count > 0 ? cell.Spec.Anchors : Anchors.Named,
                Stride = cell.Stride, BatchSize = cell.Spec.BatchSize ?? onnx.FixedBatch ?? OnnxModel.DefaultBatchSize, OutRoot = cell.OutRoot, Resume = true,
                Precision = Precisions.Parse(cell.Spec.Precision), Features = FeatureStorages.Parse(cell.Spec.Features),
                CommandLine = $"shiftbench sweep ({cell.Name})", Pictures = Report.RunHeatmaps.Instance,
            }, progress, cancel);
            return;
        }
        var entry = ModelRegistry.Find(cell.Model, cell.Variant);
        var weights = cell.Spec.Weights switch
        {
            null => WeightsSource.File(Path.Combine(weightsDir, entry.FileName)),
            WeightsSource.DeterministicName => WeightsSource.Deterministic(),
            var file => WeightsSource.File(file),
        };
        var request = new RunRequest
        {
            Model = entry, Dataset = dataset, DataDir = dataDir, Weights = weights,
            Layers = cell.Spec.Layers, AnchorSpecs = cell.Spec.Anchors.Count > 0 ? cell.Spec.Anchors : Anchors.Named,
            Stride = cell.Stride, BatchSize = cell.Spec.BatchSize ?? entry.DefaultBatchSize, OutRoot = cell.OutRoot, Resume = true,
            Precision = Precisions.Parse(cell.Spec.Precision), Features = FeatureStorages.Parse(cell.Spec.Features),
            CommandLine = $"shiftbench sweep ({cell.Name}{(shard is null ? "" : $", shard {shard}")}{(merge ? ", merge" : "")})",
            Shard = shard, MergeShards = merge, Reuse = reuse, Pictures = Report.RunHeatmaps.Instance,
        };
        ExperimentRunner.Run(request with { RunArguments = RunRequestBuilder.ArgumentsOf(request) }, progress, cancel);
    }

    /// <summary>Where a cell stands, from its run folder: complete, shards done, positions of a whole run done, or not started.</summary>
    public static string Status(SweepCell cell)
    {
        if (IsComplete(cell)) return "complete";
        var shards = ShardedRun.Present(cell.RunDirectory);
        if (shards.Count > 0)
        {
            int n = shards.Max(s => s.Count);
            // Sealed (its manifest written last), not merely past its last batch: the merge takes sealed shards only.
            int done = Enumerable.Range(0, n).Count(k => ShardedRun.IsShardComplete(cell.RunDirectory, k, n));
            return $"shards {done}/{n} complete" + (done == n ? ", to merge" : "");
        }
        var whole = ShardedRun.ReadProgress(Path.Combine(cell.RunDirectory, RunLayout.PartialFolder));
        return whole is null ? "not started" : $"running or interrupted ({whole.Next} of {whole.End} positions)";
    }

    /// <summary>The metric columns: the registry's sweep metrics, in its order.</summary>
    static IReadOnlyList<string> Columns => Analysis.Metrics.SweepColumns;

    /// <summary>
    /// OUT/sweep-summary.csv and .md: one row per run x layer with the main metrics of its summary.json, and one
    /// row with empty metrics for a cell that failed or has no complete run; `error` says why a cell failed.
    /// </summary>
    static void WriteSummary(string outDir, IReadOnlyList<SweepOutcome> outcomes, IReadOnlyList<GateResult> gates)
    {
        Directory.CreateDirectory(outDir);
        var csv = new StringBuilder("model,variant,dataset,stride,status,layer," + string.Join(',', Columns) + ",error\n");
        var md = new StringBuilder("| model | variant | dataset | stride | status | layer | " + string.Join(" | ", Columns) + " |\n");
        md.Append("| --- | --- | --- | ---: | --- | --- |").Append(string.Concat(Columns.Select(_ => " ---: |"))).Append('\n');
        foreach (var o in outcomes)
        {
            var c = o.Cell;
            string head = $"{CsvField(c.Model)},{CsvField(c.Variant)},{CsvField(c.DatasetName)},{c.Stride},{o.Status}";
            var summary = o.Status == "failed" ? null : Comparison.Summary(c.RunDirectory);
            if (summary is null)
            {
                csv.Append(head).Append(",,").Append(new string(',', Columns.Count - 1)).Append(',').Append(CsvField(o.Error ?? "")).Append('\n');
                md.Append($"| {c.Model} | {c.Variant} | {c.DatasetName} | {c.Stride} | {o.Status}{(o.Error is null ? "" : ": " + o.Error.Replace("|", "/"))} | |").Append(string.Concat(Columns.Select(_ => " |"))).Append('\n');
                continue;
            }
            foreach (var layer in RunSummary.Rows(summary).GroupBy(r => r.Layer))
            {
                var values = layer.ToDictionary(r => r.Metric, r => r.Value);
                var cells = Columns.Select(m => values.TryGetValue(m, out var v) ? v.ToString("G6", CultureInfo.InvariantCulture) : "").ToList();
                csv.Append(head).Append(',').Append(CsvField(layer.Key)).Append(',').Append(string.Join(',', cells)).Append(",\n");
                md.Append($"| {c.Model} | {c.Variant} | {c.DatasetName} | {c.Stride} | {o.Status} | {layer.Key} | ").Append(string.Join(" | ", cells)).Append(" |\n");
            }
        }
        if (gates.Count > 0)
        {
            md.Append("\n| gate | scope | result | values |\n| --- | --- | --- | --- |\n");
            foreach (var g in gates)
                md.Append($"| `{g.Gate.Replace("|", "/")}` | {g.Scope} | {(g.Passed ? "pass" : "**FAIL**")} | {g.Detail.Replace("|", "/")} |\n");
        }
        AtomicFile.WriteAllText(Path.Combine(outDir, SweepFiles.SummaryCsv), csv.ToString());
        AtomicFile.WriteAllText(Path.Combine(outDir, SweepFiles.SummaryMarkdown), md.ToString());
    }

    /// <summary>RFC 4180 quoting for free text (error messages, file-named datasets).</summary>
    static string CsvField(string text) =>
        text.IndexOfAny([',', '"', '\n', '\r']) < 0 ? text : "\"" + text.Replace("\"", "\"\"").Replace('\n', ' ').Replace('\r', ' ') + "\"";
}
