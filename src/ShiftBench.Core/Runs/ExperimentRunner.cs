using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using ShiftBench.Analysis;
using ShiftBench.Datasets;
using ShiftBench.Models;
using ShiftBench.Output;
using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Runs;

/// <summary>
/// One run: every position of a dataset through one network; cosine grids against the anchors, the target-class
/// grid and every metric computed while the positions stream (Analysis.StreamingGrids), feature matrices stored
/// only with --features (see docs/output.md). Unfinished state lives in RUN/.partial (streaming state, row files and
/// progress.json); the final files are staged there and committed into place by the result job (ResultJob), run.json
/// last, so `complete: true` means every file is whole.
/// </summary>
public static class ExperimentRunner
{
    public static RunResult Run(RunRequest request, IProgress<ProgressUpdate>? progress = null, CancellationToken cancel = default)
    {
        CheckOutputPrecision(request);
        if (request.Dataset.Kind == DatasetConfig.PatchesKind)
            return MultiPatchRunner.Run(request, progress, cancel);
        var total = Stopwatch.StartNew();
        var timings = new RunTimings();
        var layers = Validate(request);

        using var dataset = ShiftDataset.Open(request.Dataset, request.DataDir, request.Stride, request.Device, request.Onnx?.Mean, request.Onnx?.Std);
        var anchors = Anchors.Parse(request.AnchorSpecs, dataset.Offsets);
        string weightsSha = request.Weights.Path is { } wp && File.Exists(wp) ? FileHash.Sha256(wp, "weight file") : "";
        var sourceShas = dataset.Sources.Select(s => (s.File, s.Path, Sha: FileHash.Sha256(s.Path))).ToList();

        string runDir = request.RunDirectory;
        string partialDir = Path.Combine(runDir, RunLayout.PartialFolder);
        string? created = FirstMissing(runDir);
        EnsureWritable(runDir, request.OutRoot);
        string fingerprint = Fingerprint(request, layers, dataset, weightsSha, sourceShas.Select(s => s.Sha));
        // The folder (a shard: its block) is this process's until it returns; a second writer is refused here.
        using var job = ResultJob.Open(runDir, request.Shard?.FolderName);
        if ((request.Resume || request.MergeShards) && job.FinishPendingCommit(fingerprint))
            return new RunResult(runDir, true, true, dataset.Count, 0, 0, timings);

        // A complete run is skipped only if it computed the same features (fingerprint) and wrote the same anchors.
        if (request.Resume && RunRecord.ReadComplete(runDir) is { } previous && previous.Fingerprint == fingerprint
            && previous.Anchors.Keys.SequenceEqual(anchors.Select(a => a.Name)))
            return new RunResult(runDir, true, true, dataset.Count, 0, 0, timings);

        if (request.MergeShards)
            return MergeShards(request, job, dataset, anchors, layers, runDir, partialDir, fingerprint, weightsSha, sourceShas, total, timings);
        if (request.Shard is not null && request.Resume && VerifiedShards.Sealed(job.WorkDir, fingerprint, request.BatchSize) is not null)
            return new RunResult(runDir, false, true, dataset.Count, 0, 0, timings);

        // The network is loaded (damaged weights refused) before anything is written, so it leaves nothing behind.
        var load = Stopwatch.StartNew();
        IFeatureNetwork network;
        try { network = Open(request, layers); }
        catch when (created is not null)
        {
            job.Dispose(); // its lock files
            if (!Directory.EnumerateFiles(created, "*", SearchOption.AllDirectories).Any())
                Directory.Delete(created, recursive: true); // only the empty folders made above
            throw;
        }
        using var _ = network;
        // Exact reuse where it applies (same results, so the fingerprint and resuming are unaffected).
        using var reuse = Reuse.ReuseEngine.Create(request.Reuse, network, dataset, out var reuseRecord, request.Model);
        timings.LoadSeconds = load.Elapsed.TotalSeconds;

        int positions = dataset.Count;
        // A shard computes its block into its own folder (nothing another shard writes); a whole run uses .partial.
        var (begin, end) = request.Shard?.Range(positions, request.BatchSize) ?? (0, positions);
        string workDir = job.WorkDir;
        int next = request.Resume ? ReadProgress(workDir, fingerprint, request.BatchSize) ?? begin : begin;
        // A shard keeps its rows (fp32) for `merge`, which streams them; a whole run keeps rows only when asked.
        var storage = request.Shard is null ? request.Features : FeatureStorage.Fp32;
        var maps = MapShapes(request, layers, network);
        var setup = StreamSetup(request, dataset, anchors, layers, maps);
        if (next > begin && !CanResume(workDir, storage, next, request.Shard is null ? setup : null)) next = begin;
        if (next == begin) job.ResetWorkArea();
        RunLayout.MarkIncomplete(runDir);
        if (request.Shard is not null) WriteRunArguments(workDir, request);
        AtomicFile.WriteAllText(Path.Combine(workDir, RunLayout.StoredFeaturesFile), storage.Name());
        using var stream = request.Shard is null ? new Analysis.StreamingGrids(setup, workDir, resume: next > begin) : null;

        int stopAt = Math.Min(end, begin + (request.MaxPositions ?? positions));
        double secondsBefore = request.Shard is null ? 0 : ShardedRun.ReadProgress(workDir)?.Seconds ?? 0;
        var files = new Dictionary<string, NpyRowFile>();
        var buffers = new Dictionary<string, float[]>(); // one buffer per layer, reused by every batch
        // One batch's rows per layer, computed the same way for the anchors' batches and the loop (so bit-identical).
        Dictionary<string, ReadOnlyMemory<float>> Compute(int start, int count, Reuse.ReuseEngine? engine)
        {
            using var scope = NewDisposeScope();
            var phase = Stopwatch.StartNew();
            Dictionary<string, Tensor> outputs;
            if (engine is not null)
                outputs = ((TorchFeatureNetwork)network).Collect(() => engine.Forward(start, count)); // makes its own inputs
            else
            {
                var batch = dataset.Batch(start, count);
                timings.DataSeconds += phase.Elapsed.TotalSeconds;
                phase.Restart();
                outputs = network.Forward(batch);
            }
            timings.ForwardSeconds += phase.Elapsed.TotalSeconds;
            var rows = new Dictionary<string, ReadOnlyMemory<float>>();
            foreach (var (layer, values) in outputs)
                using (values)
                {
                    int length = checked((int)values.numel());
                    if (!buffers.TryGetValue(layer, out var buffer) || buffer.Length < length) buffers[layer] = buffer = new float[length];
                    TensorMemory.CopyTo(values, buffer);
                    rows[layer] = buffer.AsMemory(0, length);
                }
            return rows;
        }
        int computedHere = 0;
        var loop = Stopwatch.StartNew();
        try
        {
            // The anchors' batches first, each by a fresh reuse engine (as a resume at that batch computes it, bit for
            // bit the loop's): the run's own engine keeps state from the batches it computed, so it sees only the loop's, in order.
            if (stream is { NeedsAnchors: true })
                foreach (var (start, count) in stream.AnchorBatches())
                {
                    using var fresh = reuse is null ? null : Reuse.ReuseEngine.Create(request.Reuse, network, dataset, out var anchorRecord, request.Model);
                    stream.TakeAnchors(start, count, Compute(start, count, fresh));
                }
            progress?.Report(new ProgressUpdate(Describe(request), next - begin, stopAt - begin, "images"));
            for (int start = next; start < stopAt; start += request.BatchSize)
            {
                cancel.ThrowIfCancellationRequested();
                int count = Math.Min(request.BatchSize, stopAt - start);
                var rows = Compute(start, count, reuse);
                var phase = Stopwatch.StartNew();
                stream?.Add(start, count, rows);
                if (storage != FeatureStorage.None)
                    foreach (var (layer, values) in rows.Where(r => request.Shard is not null || layers.Contains(r.Key))) // merge needs every row
                    {
                        if (!files.TryGetValue(layer, out var file))
                            files[layer] = file = NpyRowFile.OpenOrCreate(Path.Combine(workDir, RunLayout.FeaturesFile(layer)), end - begin, values.Length / count,
                                keepExisting: next > begin, storage.Descr());
                        file.WriteRows(start - begin, values.Span);
                    }
                foreach (var file in files.Values) file.Flush();
                stream?.Commit(start + count);
                WriteProgress(workDir, fingerprint, start + count, end, request.BatchSize, secondsBefore + loop.Elapsed.TotalSeconds);
                timings.WriteSeconds += phase.Elapsed.TotalSeconds;
                computedHere += count;
                progress?.Report(new ProgressUpdate(Describe(request), start + count - begin, stopAt - begin, "images"));
            }
        }
        finally
        {
            foreach (var file in files.Values) file.Dispose();
        }
        double loopSeconds = loop.Elapsed.TotalSeconds;
        double imagesPerSecond = computedHere / Math.Max(loopSeconds, 1e-9);
        if (stopAt < positions || request.Shard is not null)
        {
            // A shard is finished when sealed (checksums of its files); `merge` makes the run whole.
            if (request.Shard is not null && stopAt == end) VerifiedShards.Seal(workDir, fingerprint, request.BatchSize, begin, end, secondsBefore + loopSeconds);
            timings.TotalSeconds = total.Elapsed.TotalSeconds;
            return new RunResult(runDir, false, false, positions, computedHere, imagesPerSecond, timings) { Reuse = reuseRecord, HeldValues = stream?.HeldValues ?? 0 };
        }

        var grids = Stopwatch.StartNew();
        string staging = job.BeginStaging();
        WriteResults(request, dataset, anchors, layers, staging, workDir, stream!);
        stream!.Dispose(); // its files go with the work area when the commit completes
        timings.GridSeconds = grids.Elapsed.TotalSeconds;
        timings.TotalSeconds = total.Elapsed.TotalSeconds;
        WriteRunJson(request, dataset, anchors, layers, staging, fingerprint, weightsSha, sourceShas, imagesPerSecond, timings, network: network, reuse: reuseRecord);
        job.Commit(fingerprint, RunLayout.RunJson);
        return new RunResult(runDir, true, false, positions, computedHere, imagesPerSecond, timings) { Reuse = reuseRecord, HeldValues = stream!.HeldValues };
    }

    /// <summary>
    /// The network with its layers: a zoo module with taps only for stored layers (logits, fc, are the model
    /// output and always kept for class/top1), or an ONNX Runtime session.
    /// </summary>
    public static IFeatureNetwork Open(RunRequest request, IReadOnlyList<string> layers) =>
        Open(request.Model, request.Onnx, request.Weights, request.Device, layers, request.Dataset.Canvas.Size, request.Precision);

    /// <summary>A zoo network (<paramref name="zoo"/> with <paramref name="weights"/>) or an ONNX session, with taps for <paramref name="layers"/>.</summary>
    public static IFeatureNetwork Open(ModelEntry? zoo, Models.Onnx.OnnxModel? onnx, WeightsSource weights, Device device, IReadOnlyList<string> layers, int inputSize,
        Precision precision = Precision.Fp32)
    {
        if (onnx is not null) return new Models.Onnx.OnnxFeatureNetwork(onnx, layers, device);
        var entry = zoo ?? throw new ArgumentException("neither a zoo entry nor an ONNX model");
        var model = ModelLoader.Load(entry, weights, device, precision);
        return new TorchFeatureNetwork(model, ZooLayers.Taps(entry, layers, inputSize), precision);
    }

    /// <summary>
    /// Checks options against the model and the dataset's geometry without reading any file, so bad input
    /// fails before downloads or model loading. Returns the layers to write.
    /// </summary>
    public static IReadOnlyList<string> Validate(RunRequest request)
    {
        var layers = request.ResolveLayers();
        Precisions.CheckSupported(request.Precision, request.Device, onnx: request.Onnx is not null);
        if (request.BatchSize < 1) throw new ShiftBenchException($"--batch-size {request.BatchSize} is invalid: use 1 or more");
        int stride = request.Stride ?? request.Dataset.Stride;
        if (stride < 1) throw new ShiftBenchException($"--stride {stride} is invalid: use 1 or more");
        if (layers.Contains(ModelEntry.ClassLayer) && request.Dataset.TargetClass is null && request.Dataset.Kind != DatasetConfig.PatchesKind)
            throw new ShiftBenchException($"dataset '{request.Dataset.Name}' ({request.Dataset.ConfigPath}) has no target_class; add it or leave out the class layer (--layers)");
        Anchors.Parse(request.AnchorSpecs, request.Dataset.Offsets(stride));
        if (request.Onnx is { } onnx && onnx.Size != request.Dataset.Canvas.Size)
            throw new ShiftBenchException($"{Path.GetFileName(onnx.Path)} takes {onnx.Size}x{onnx.Size} images but dataset '{request.Dataset.Name}' renders {request.Dataset.Canvas.Size}x{request.Dataset.Canvas.Size}: use a dataset config with canvas size {onnx.Size}, or a model that takes {request.Dataset.Canvas.Size}");
        Reuse.ReuseEngine.CheckMode(request.Reuse);
        if ((request.Shard is not null || request.MergeShards) && request.Dataset.Kind == DatasetConfig.PatchesKind)
            throw new ShiftBenchException($"dataset '{request.Dataset.Name}' is of kind patches, which is not sharded (--shard, merge): run it whole");
        if (request.Model is { } entry) ZooLayers.Check(entry, layers, request.Dataset.Canvas.Size); // module paths exist and fit their reduction
        return layers;
    }

    /// <summary>
    /// An output folder holds runs of one precision, so reports, comparisons and sweeps over it never mix fp32 and
    /// bf16 results: refuses, before anything is written, a run whose precision differs from any run below --out.
    /// </summary>
    public static void CheckOutputPrecision(RunRequest request) => CheckOutputPrecision(request.OutRoot, request.Precision);

    /// <summary>The same rule for any command writing below <paramref name="outRoot"/> (`run`, `sweep`, `consistency`).</summary>
    public static void CheckOutputPrecision(string outRoot, Precision precision)
    {
        string wanted = precision.Name();
        if (RunLayout.RunOfOtherPrecision(outRoot, wanted) is { } other)
            throw new ShiftBenchException($"{outRoot} holds {other.Precision} {(other.Consistency ? "results" : "runs")} ({other.RunDir}), and an output folder holds one precision: " +
                $"write this {wanted} run to another folder, e.g. --out {Path.TrimEndingDirectorySeparator(outRoot)}-{wanted}");
    }

    static string Describe(RunRequest r) => $"{r.ModelName} {r.VariantName} {r.Dataset.Name}";

    /// <summary>The outermost folder of <paramref name="dir"/> that does not exist yet, or null.</summary>
    static string? FirstMissing(string dir)
    {
        string? missing = null;
        for (var d = new DirectoryInfo(dir); d is not null && !d.Exists; d = d.Parent) missing = d.FullName;
        return missing;
    }

    static void EnsureWritable(string runDir, string outRoot)
    {
        try
        {
            Directory.CreateDirectory(runDir);
            string probe = Path.Combine(runDir, $".write-test-{Environment.ProcessId}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ShiftBenchException($"out directory {outRoot} is not writable ({e.Message.Split('\n')[0]}); choose another with --out");
        }
    }

    /// <summary>Identifies what a run computes, so --resume never mixes rows of different runs.</summary>
    static string Fingerprint(RunRequest r, IReadOnlyList<string> layers, ShiftDataset dataset, string weightsSha, IEnumerable<string> sourceShas)
    {
        var key = new JsonObject
        {
            ["model"] = r.ModelName, ["variant"] = r.VariantName,
            ["weights"] = weightsSha.Length > 0 ? weightsSha : r.Weights.ToString(),
            ["dataset"] = JsonSerializer.SerializeToNode(r.Dataset), ["sources"] = new JsonArray([.. sourceShas.Select(s => JsonValue.Create(s))]),
            ["stride"] = dataset.Stride, ["layers"] = new JsonArray([.. layers.Select(l => JsonValue.Create(l))]),
        };
        // Left out for fp32, so runs made before --precision existed keep their fingerprints.
        if (r.Precision != Precision.Fp32) key[RunLayout.PrecisionField] = r.Precision.Name();
        if (r.Onnx is { } onnx) key["onnx"] = onnx.Describe(); // input size, normalisation, channels, logits
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key.ToJsonString())))[..16];
    }

    /// <summary>Where to go on from: the next position, when the progress file is this computation's (same fingerprint and batch size).</summary>
    static int? ReadProgress(string workDir, string fingerprint, int batchSize) =>
        JobProgress.ReadToResume(workDir) is { } p && p.Fingerprint == fingerprint && (p.BatchSize == 0 || p.BatchSize == batchSize) ? p.Next : null;

    static void WriteProgress(string workDir, string fingerprint, int next, int end, int batchSize, double seconds)
    {
        new JobProgress(fingerprint, next, end, batchSize, seconds).Write(workDir);
        JobTestHook.Count("batch");
    }

    /// <summary>The `run` arguments that made a shard, so `shiftbench merge RUN_DIR` can rebuild the same request.</summary>
    static void WriteRunArguments(string shardDir, RunRequest request)
    {
        if (request.RunArguments.Count > 0)
            JobRecords.Write(Path.Combine(shardDir, RunLayout.RunArgumentsFile), request.RunArguments.ToArray(), JobJson.Default.StringArray);
    }

    /// <summary>
    /// `merge`: checks that every shard of the run is complete and was computed by this very request (fingerprint
    /// and batch size), streams their rows in order (and into the whole run's feature files with --features), then
    /// writes grids, metrics and run.json exactly as an unsharded run does; the shards' rows go with RUN/.partial. Refuses, listing every problem, before writing anything.
    /// </summary>
    static RunResult MergeShards(RunRequest request, ResultJob job, ShiftDataset dataset, IReadOnlyList<Anchor> anchors, IReadOnlyList<string> layers,
        string runDir, string partialDir, string fingerprint, string weightsSha, IEnumerable<(string File, string Path, string Sha)> sourceShas,
        Stopwatch total, RunTimings timings)
    {
        var present = ShardedRun.Present(runDir);
        if (present.Count == 0)
            throw new ShiftBenchException($"{runDir} has no shards to merge (no {RunLayout.PartialFolder}/shard-K-of-N folders): run `shiftbench run ... --shard K/N` first");
        var counts = present.Select(s => s.Count).Distinct().ToList();
        if (counts.Count > 1)
            throw new ShiftBenchException($"{runDir} holds shards of different splits ({string.Join(", ", counts.Select(n => $"of {n}"))}): delete the {RunLayout.PartialFolder}/shard-*-of-N folders of the split you do not want");
        int shardCount = counts[0], positions = dataset.Count;
        var problems = new List<string>();
        var shards = Enumerable.Range(0, shardCount).Select(k => new ShardSpec(k, shardCount)).ToList();
        var manifests = new List<ShardManifest>();
        foreach (var shard in shards)
        {
            // Every file of every shard is checked against its manifest (SHA-256) before anything is written.
            var (problem, manifest) = VerifiedShards.Check(runDir, shard, fingerprint, request.BatchSize, shard.Range(positions, request.BatchSize));
            if (problem is not null) problems.Add(problem);
            else manifests.Add(manifest!);
        }
        if (problems.Count > 0)
            throw new ShiftBenchException($"cannot merge {runDir}: {string.Join("; ", problems)}; run those shards again (same options, --shard K/{shardCount}) and merge again");
        double seconds = manifests.Sum(m => m.Seconds);

        var grids = Stopwatch.StartNew();
        var shardDirs = shards.Select(s => ShardedRun.ShardDirectory(runDir, s)).ToList();
        var names = layers.Where(l => l != ModelEntry.ClassLayer).Concat(layers.Contains(ModelEntry.ClassLayer) ? [ModelEntry.LogitsLayer] : []).Distinct().ToList();
        Directory.CreateDirectory(partialDir);
        string staging = job.BeginStaging();
        var maps = MapShapes(request, layers, null);
        using (var stream = new Analysis.StreamingGrids(StreamSetup(request, dataset, anchors, layers, maps), partialDir, resume: false))
        {
            // The shards' rows, batch by batch in order, through the same streaming as an unsharded run (so the same numbers).
            var open = names.ToDictionary(n => n, n => shards.Zip(shardDirs)
                .Where(p => p.First.Range(positions, request.BatchSize) is var (b, e) && e > b)
                .Select(p => (Range: p.First.Range(positions, request.BatchSize), File: NpyRowFile.OpenRead(Path.Combine(p.Second, RunLayout.FeaturesFile(n))))).ToList());
            var whole = request.Features == FeatureStorage.None ? [] : names.Where(n => layers.Contains(n)).ToDictionary(n => n,
                n => NpyRowFile.OpenOrCreate(Path.Combine(partialDir, RunLayout.FeaturesFile(n)), positions, open[n][0].File.Cols, keepExisting: false, request.Features.Descr()));
            try
            {
                Dictionary<string, ReadOnlyMemory<float>> Read(int start, int count) => names.ToDictionary(n => n, n =>
                {
                    var (range, file) = open[n].First(f => start >= f.Range.Begin && start < f.Range.End);
                    var rows = new float[count * file.Cols];
                    file.ReadRows(start - range.Begin, rows);
                    return (ReadOnlyMemory<float>)rows;
                });
                foreach (var (start, count) in stream.AnchorBatches()) stream.TakeAnchors(start, count, Read(start, count));
                for (int start = 0; start < positions; start += request.BatchSize)
                {
                    int count = Math.Min(request.BatchSize, positions - start);
                    var rows = Read(start, count);
                    stream.Add(start, count, rows);
                    foreach (var (name, file) in whole) file.WriteRows(start, rows[name].Span);
                }
            }
            finally
            {
                foreach (var f in open.Values.SelectMany(l => l)) f.File.Dispose();
                foreach (var f in whole.Values) f.Dispose();
            }
            WriteResults(request, dataset, anchors, layers, staging, partialDir, stream);
        }
        timings.GridSeconds = grids.Elapsed.TotalSeconds;
        timings.TotalSeconds = total.Elapsed.TotalSeconds;
        double imagesPerSecond = positions / Math.Max(seconds, 1e-9);
        WriteRunJson(request, dataset, anchors, layers, staging, fingerprint, weightsSha, sourceShas, imagesPerSecond, timings, shardCount);
        job.Commit(fingerprint, RunLayout.RunJson);
        return new RunResult(runDir, true, false, positions, 0, imagesPerSecond, timings);
    }

    /// <summary>
    /// Writes the streamed grids (cosine, equivariance, class) and summary.json into <paramref name="runDir"/> (the job's
    /// staging folder), has the request's <see cref="IRunPictures"/> draw them, then stages any stored feature matrices.
    /// summary.json comes from the streamed values alone, so it is the same with or without --features.
    /// </summary>
    static void WriteResults(RunRequest request, ShiftDataset dataset, IReadOnlyList<Anchor> anchors, IReadOnlyList<string> layers, string runDir, string partialDir,
        Analysis.StreamingGrids stream)
    {
        var pictures = new List<StagedGrid>();
        foreach (var layer in layers.Where(l => l != ModelEntry.ClassLayer))
        {
            var grids = stream.Cosines(layer);
            for (int a = 0; a < anchors.Count; a++)
            {
                string stem = Path.Combine(runDir, RunLayout.CosineStem(layer, anchors[a].Name));
                GridCsv.Write(RunLayout.Csv(stem), grids[a], dataset.Offsets);
                pictures.Add(new StagedGrid(Path.GetFileName(stem), StagedGridKind.Cosine, layer, anchors[a].Name));
            }
            if (stream.EquivarianceGrids(layer) is not { } equivariance) continue;
            int cellStride = stream.CellStrideOf(layer);
            for (int a = 0; a < anchors.Count; a++)
            {
                var distances = equivariance[a];
                string stem = Path.Combine(runDir, RunLayout.EquivarianceStem(layer, anchors[a].Name));
                GridCsv.Write(RunLayout.Csv(stem), distances, dataset.Offsets);
                pictures.Add(new StagedGrid(Path.GetFileName(stem), StagedGridKind.Equivariance, layer, anchors[a].Name, cellStride));
            }
        }

        if (layers.Contains(ModelEntry.ClassLayer))
        {
            var (probability, top1, topK) = stream.Classes();
            string classStem = Path.Combine(runDir, RunLayout.ClassStem);
            GridCsv.Write(RunLayout.Csv(classStem), probability, dataset.Offsets);
            pictures.Add(new StagedGrid(RunLayout.ClassStem, StagedGridKind.Class));
            AtomicFile.Write(Path.Combine(runDir, RunLayout.Top1), tmp => Npy.Write(tmp, top1, top1.LongLength));
            AtomicFile.Write(Path.Combine(runDir, RunLayout.Top5), tmp => Npy.Write(tmp, topK, top1.LongLength, ClassGrid.TopK));
        }
        Analysis.RunSummary.Write(runDir, new Analysis.RunSummary.Geometry(dataset.Rows, dataset.Cols, dataset.Stride, layers,
            anchors.Select(a => a.Name).ToList(), request.Dataset.TargetClass, dataset.Config.OffsetUnitPx), stream.Summaries());
        request.Pictures?.Draw(new StagedGrids(runDir, request, dataset.Stride, pictures));

        if (request.Features == FeatureStorage.None) return;
        foreach (var layer in layers.Where(l => l != ModelEntry.ClassLayer))
            ResultJob.StageWorkFile(Path.Combine(partialDir, RunLayout.FeaturesFile(layer)), Path.Combine(runDir, RunLayout.FeaturesFile(layer)));
    }

    /// <summary>What the run streams: its grid, anchors, grid layers, `@map` shapes and the class layer.</summary>
    static Analysis.StreamingGrids.Setup StreamSetup(RunRequest request, ShiftDataset dataset, IReadOnlyList<Anchor> anchors, IReadOnlyList<string> layers,
        IReadOnlyDictionary<string, Analysis.MapShape> maps) =>
        new(dataset.Rows, dataset.Cols, request.BatchSize, anchors, [.. layers.Where(l => l != ModelEntry.ClassLayer)], maps,
            shape => Analysis.Equivariance.CellStride(request.Dataset.Canvas.Size, shape.Height), dataset.Offsets, request.Dataset.OffsetUnitPx,
            request.Dataset.KindType.ContentDirection, request.Dataset.KindType.IsCircular,
            layers.Contains(ModelEntry.ClassLayer) ? ModelEntry.LogitsLayer : null, request.Dataset.TargetClass);


    /// <summary>
    /// Whether the work folder can be continued at <paramref name="next"/>: it stores the same feature matrices, and
    /// (a streaming run) its streaming state reaches exactly <paramref name="next"/>; otherwise the run starts over.
    /// </summary>
    static bool CanResume(string workDir, FeatureStorage storage, int next, Analysis.StreamingGrids.Setup? streams)
    {
        string stored = Path.Combine(workDir, RunLayout.StoredFeaturesFile);
        string had = File.Exists(stored) ? File.ReadAllText(stored) : FeatureStorage.Fp32.Name(); // folders made before --features kept fp32 rows
        return had == storage.Name() && (streams is null || Analysis.StreamingGrids.SavedNext(workDir, streams) == next);
    }

    /// <summary>The [C, H, W] of each `@map` layer: the module's output shape (zoo) or the session's (ONNX).</summary>
    static Dictionary<string, Analysis.MapShape> MapShapes(RunRequest request, IReadOnlyList<string> layers, IFeatureNetwork? network)
    {
        var maps = new Dictionary<string, Analysis.MapShape>();
        foreach (var layer in layers.Where(l => l is not (ModelEntry.LogitsLayer or ModelEntry.ClassLayer)))
        {
            long[]? shape = null;
            if (request.Model is { } entry)
            {
                if (!ZooLayers.IsModuleLayer(entry, layer)) continue;
                var (spec, module) = ZooLayers.Find(entry, layer, request.Dataset.Canvas.Size);
                if (spec.Reduction == LayerReduction.Map) shape = module.Output;
            }
            else if (network is Models.Onnx.OnnxFeatureNetwork onnx && onnx.Reductions.GetValueOrDefault(layer) == LayerSpec.NameOf(LayerReduction.Map))
                shape = onnx.Shapes[layer];
            if (shape is { Length: 3 }) maps[layer] = new Analysis.MapShape((int)shape[0], (int)shape[1], (int)shape[2]);
        }
        return maps;
    }

    static void WriteRunJson(RunRequest request, ShiftDataset dataset, IReadOnlyList<Anchor> anchors, IReadOnlyList<string> layers,
        string runDir, string fingerprint, string weightsSha, IEnumerable<(string File, string Path, string Sha)> sources,
        double imagesPerSecond, RunTimings timings, int shards = 1, IFeatureNetwork? network = null, Reuse.ReuseRecord? reuse = null)
    {
        new RunRecord
        {
            Tool = "shiftbench",
            Version = typeof(ExperimentRunner).Assembly.GetName().Version?.ToString(3),
            Command = request.CommandLine,
            Model = request.ModelName,
            Variant = request.VariantName,
            FilterSize = request.Model?.FilterSize,
            Weights = new RunWeights(request.Weights.Path is { } p ? Path.GetFullPath(p) : request.Weights.ToString(), weightsSha, request.Model?.Url),
            Dataset = DatasetRecord(request.Dataset, [.. sources.Select(s => new RunSource(s.File, Path.GetFullPath(s.Path), s.Sha))]),
            Stride = dataset.Stride,
            Grid = new RunGrid(dataset.Rows, dataset.Cols, dataset.Stride, dataset.Offsets, dataset.Config.OffsetUnitPx),
            ImageSize = dataset.ImageSize,
            Layers = layers,
            Anchors = anchors.ToDictionary(a => a.Name, a => new[] { a.Y, a.X }),
            Device = request.Device.ToString(),
            Precision = request.Precision.Name(),
            BatchSize = request.BatchSize,
            Libraries = new RunLibraries(typeof(torch).Assembly.GetName().Version?.ToString(), Environment.Version.ToString(), get_num_threads()),
            ImagesPerSecond = Math.Round(imagesPerSecond, 3),
            // How the features were computed (a merge of shards does not know; each shard's run did the same).
            Reuse = reuse?.ToRecord(),
            Shards = shards,
            Onnx = request.Onnx is { } onnx ? RecordFile.Element(OnnxRecord(onnx, network as Models.Onnx.OnnxFeatureNetwork, layers)) : null,
            // Module-path layers: module, reduction and output shape per image (reshape an @map row to it).
            Modules = request.Model is { } entry ? ZooLayers.Describe(entry, layers, dataset.ImageSize) : null,
            Timings = new RunTimes(timings.LoadSeconds, timings.DataSeconds, timings.ForwardSeconds, timings.WriteSeconds, timings.GridSeconds, timings.TotalSeconds),
            Fingerprint = fingerprint,
            FinishedUtc = DateTime.UtcNow.ToString("o"),
            Complete = true,
        }.Write(runDir);
    }

    /// <summary>run.json "dataset": the config as run (the YAML's field names) and the source files read.</summary>
    internal static RunDataset DatasetRecord(DatasetConfig config, IReadOnlyList<RunSource> sources) => new()
    {
        Name = config.Name,
        ConfigPath = config.ConfigPath,
        TargetClass = config.TargetClass,
        Config = JsonSerializer.SerializeToElement(config, SnakeCase),
        Sources = sources,
    };

    /// <summary>
    /// run.json "onnx": the file (SHA-256, opset, producer), how it was fed, the runtime and each layer's tensor;
    /// a merge of shards has no session, so provider and reductions are then null.
    /// </summary>
    static JsonObject OnnxRecord(Models.Onnx.OnnxModel onnx, Models.Onnx.OnnxFeatureNetwork? session, IReadOnlyList<string> layers)
    {
        var json = onnx.Describe();
        json["onnxruntime"] = Models.Onnx.OnnxFeatureNetwork.RuntimeVersion;
        json["execution_provider"] = session?.ExecutionProvider;
        json["layers"] = new JsonObject(layers.Select(l => KeyValuePair.Create(l, (JsonNode?)(l is ModelEntry.LogitsLayer or ModelEntry.ClassLayer
            ? new JsonObject { ["tensor"] = onnx.LogitsTensor, ["reduction"] = l == ModelEntry.ClassLayer ? "softmax" : "flat" }
            : new JsonObject { ["tensor"] = onnx.Spec(l).Tensor, ["reduction"] = session?.Reductions[l],
                ["shape"] = session is null ? null : new JsonArray([.. session.Shapes[l].Select(d => JsonValue.Create(d))]) }))));
        return json;
    }

    static readonly JsonSerializerOptions SnakeCase = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

}
