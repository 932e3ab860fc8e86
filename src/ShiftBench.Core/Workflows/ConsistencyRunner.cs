using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ShiftBench.Analysis;
using ShiftBench.Datasets;
using ShiftBench.Models;
using ShiftBench.Models.Onnx;
using ShiftBench.Output;
using ShiftBench.Runs;
using static TorchSharp.torch;

namespace ShiftBench.Workflows;

/// <summary>What one `shiftbench consistency` run computes (docs/metrics.md, "Consistency on a folder of images").</summary>
public sealed record ConsistencyRequest
{
    public ModelEntry? Model { get; init; }
    public OnnxModel? Onnx { get; init; }
    public required WeightsSource Weights { get; init; }
    public required string ImagesDir { get; init; }
    public string? LabelsFile { get; init; }
    public int PairsPerImage { get; init; } = ConsistencyRunner.DefaultPairsPerImage;
    public int MaxShift { get; init; } = ConsistencyRunner.DefaultMaxShift;
    public ulong Seed { get; init; }
    /// <summary>Zhang's diagonal sweep (-ed) instead of random pairs.</summary>
    public bool Diagonal { get; init; }
    public string OutRoot { get; init; } = "out";
    public int BatchSize { get; init; } = 16;
    public Device Device { get; init; } = CPU;
    /// <summary>Number format of the network (docs/precision.md); the crops are made in float32 either way.</summary>
    public Precision Precision { get; init; } = Precision.Fp32;
    public bool Resume { get; init; }
    public string CommandLine { get; init; } = "";

    public string ModelName => Onnx?.Name ?? Zoo.Model;
    public string VariantName => Onnx is null ? Zoo.VariantName : OnnxModel.VariantName;
    public ModelEntry Zoo => Model ?? throw new InvalidOperationException("not a zoo run");
    public string RunDirectory => Diagonal
        ? RunLayout.DiagonalDirectory(OutRoot, ModelName, VariantName, ImagesDir)
        : RunLayout.ConsistencyDirectory(OutRoot, ModelName, VariantName, ImagesDir);
}

public sealed record ConsistencyResult(string RunDirectory, bool Skipped, ConsistencySummaryRecord Summary);

/// <summary>
/// Zhang's ImageNet shift protocols ("Making Convolutional Networks Shift-Invariant Again", main.py -es and -ed) on a
/// folder of images: each image Resize(256) + CenterCrop(256) as torchvision does on a PIL image, then 224x224 crops at
/// seeded offsets (pairs) or at the 33 diagonal offsets, normalised as `run` does. Crops are fed in batches; each crop's
/// top-1 class and target probability go to RUN/.partial/crops.npy with progress.json, so an interrupted run continues
/// (--resume) where it stopped. pairs.csv or diagonal.csv and the figure are written whole, then summary.json last
/// with "complete": true.
/// </summary>
public static class ConsistencyRunner
{
    public const int Resize = 256, Crop = 224, DiagonalShifts = 33, DefaultPairsPerImage = 5, DefaultMaxShift = 32;
    const int ImageNetClasses = 1000;

    /// <summary>Checks the options and the folder (every image readable, labels well-formed) before any long work.</summary>
    public static IReadOnlyList<FolderImage> Validate(ConsistencyRequest r)
    {
        if (r.BatchSize < 1) throw new ShiftBenchException($"--batch-size {r.BatchSize} is invalid: use 1 or more");
        if (!r.Diagonal)
        {
            if (r.PairsPerImage < 1) throw new ShiftBenchException($"--pairs-per-image {r.PairsPerImage} is invalid: use 1 or more");
            if (r.MaxShift < 1 || r.MaxShift > Resize - Crop + 1)
                throw new ShiftBenchException($"--max-shift {r.MaxShift} is invalid: crops start at 0..max-shift-1 inside the {Resize}x{Resize} image, so use 1..{Resize - Crop + 1}");
        }
        else if (r.LabelsFile is null)
            throw new ShiftBenchException("--diagonal needs --labels: the sweep measures each image's target-class probability and accuracy at every shift");
        Precisions.CheckSupported(r.Precision, r.Device, onnx: r.Onnx is not null);
        // One precision per output folder, as for `run`: report and compare read consistency summaries beside runs.
        ExperimentRunner.CheckOutputPrecision(r.OutRoot, r.Precision);
        if (r.Onnx is { } onnx && onnx.Size != Crop)
            throw new ShiftBenchException($"{Path.GetFileName(onnx.Path)} takes {onnx.Size}x{onnx.Size} images but the consistency protocol feeds {Crop}x{Crop} crops: use a model that takes {Crop} (--input-size)");
        var images = ImageFolder.Open(r.ImagesDir, r.LabelsFile);
        int classes = r.Onnx is null ? ImageNetClasses : int.MaxValue; // an ONNX file's class count shows only in its output
        if (images.FirstOrDefault(i => i.Label >= classes) is { } bad)
            throw new ShiftBenchException($"--labels {r.LabelsFile}: {bad.Name} has class {bad.Label}, but {r.ModelName} has {classes} classes (0..{classes - 1})");
        return images;
    }

    /// <summary>The crops in feeding order: image index and top-left offset.</summary>
    static List<(int Image, int Y, int X)> Crops(ConsistencyRequest r, int images, IReadOnlyList<ShiftPair>? pairs)
    {
        var crops = new List<(int, int, int)>();
        if (r.Diagonal)
        {
            for (int i = 0; i < images; i++)
                for (int d = 0; d < DiagonalShifts; d++) crops.Add((i, d, d));
        }
        else
        {
            for (int p = 0; p < pairs!.Count; p++)
            {
                crops.Add((p / r.PairsPerImage, pairs[p].Y1, pairs[p].X1));
                crops.Add((p / r.PairsPerImage, pairs[p].Y2, pairs[p].X2));
            }
        }
        return crops;
    }

    public static ConsistencyResult Run(ConsistencyRequest r, IProgress<ProgressUpdate>? progress = null, CancellationToken cancel = default)
    {
        var images = Validate(r);
        var pairs = r.Diagonal ? null : ShiftPairs.Draw(r.Seed, images.Count, r.PairsPerImage, r.MaxShift);
        var crops = Crops(r, images.Count, pairs);
        string weightsSha = r.Weights.Path is { } wp && File.Exists(wp) ? FileHash.Sha256(wp, "weight file") : "";
        string fingerprint = Fingerprint(r, images, weightsSha);
        string runDir = r.RunDirectory;
        string summaryPath = ConsistencySummaryRecord.PathIn(runDir);

        if (r.Resume && ConsistencySummaryRecord.Read(runDir) is { Complete: true } previous && previous.Fingerprint == fingerprint)
            return new ConsistencyResult(runDir, true, previous);

        using var network = ExperimentRunner.Open(r.Model, r.Onnx, r.Weights, r.Device, [ModelEntry.LogitsLayer], Crop, r.Precision);
        // The same job protocol as `run`: lock, work area, progress, staged commit (taken once the network has loaded).
        using var job = ResultJob.Open(runDir);
        string partial = job.WorkDir;
        if (r.Resume && job.FinishPendingCommit(fingerprint)) return new ConsistencyResult(runDir, true, ConsistencySummaryRecord.Read(runDir)!);
        File.Delete(summaryPath); // the folder stops claiming to be complete before anything changes
        var saved = r.Resume ? JobProgress.ReadToResume(partial) : null;
        int next = saved is not null && saved.Fingerprint == fingerprint && saved.BatchSize == r.BatchSize ? saved.Next : 0;
        double secondsBefore = next > 0 ? saved!.Seconds : 0;
        if (next == 0) job.ResetWorkArea();

        var mean = r.Onnx?.Mean ?? ImageNet.Mean;
        var std = r.Onnx?.Std ?? ImageNet.Std;
        using var meanT = tensor(mean.ToArray(), ScalarType.Float32).view(3, 1, 1).to(r.Device);
        using var stdT = tensor(std.ToArray(), ScalarType.Float32).view(3, 1, 1).to(r.Device);
        int cachedIndex = -1;
        Tensor? cached = null;
        string describe = $"{r.ModelName} {r.VariantName} {(r.Diagonal ? "diagonal" : "consistency")}";
        var loop = Stopwatch.StartNew();
        int computed = 0;
        try
        {
            using var rows = NpyRowFile.OpenOrCreate(Path.Combine(partial, RunLayout.CropsFile), crops.Count, 2, keepExisting: next > 0);
            progress?.Report(new ProgressUpdate(describe, next, crops.Count, "crops"));
            for (int start = next; start < crops.Count; start += r.BatchSize)
            {
                cancel.ThrowIfCancellationRequested();
                int count = Math.Min(r.BatchSize, crops.Count - start);
                var values = new float[count * 2];
                using (var scope = NewDisposeScope())
                {
                    var batch = new Tensor[count];
                    for (int i = 0; i < count; i++)
                    {
                        var (image, y, x) = crops[start + i];
                        if (image != cachedIndex)
                        {
                            cached?.Dispose();
                            cached = Normalised(images[image].Path, meanT, stdT, r.Device);
                            cached.DetachFromDisposeScope();
                            cachedIndex = image;
                        }
                        batch[i] = cached![.., y..(y + Crop), x..(x + Crop)];
                    }
                    var outputs = network.Forward(stack(batch));
                    using var logits = outputs[ModelEntry.LogitsLayer];
                    foreach (var (name, t) in outputs) if (name != ModelEntry.LogitsLayer) t.Dispose();
                    var top1 = logits.argmax(1).data<long>().ToArray();
                    int classes = (int)logits.shape[1];
                    var probs = TensorMemory.ToFloatArray(nn.functional.softmax(logits, 1));
                    for (int i = 0; i < count; i++)
                    {
                        values[2 * i] = top1[i];
                        int? label = images[crops[start + i].Image].Label;
                        if (label >= classes)
                            throw new ShiftBenchException($"--labels {r.LabelsFile}: {images[crops[start + i].Image].Name} has class {label}, but {r.ModelName} has {classes} outputs");
                        values[2 * i + 1] = label is int l ? probs[i * classes + l] : float.NaN;
                    }
                }
                rows.WriteRows(start, values);
                rows.Flush();
                new JobProgress(fingerprint, start + count, crops.Count, r.BatchSize, secondsBefore + loop.Elapsed.TotalSeconds).Write(partial);
                JobTestHook.Count("batch");
                computed += count;
                progress?.Report(new ProgressUpdate(describe, start + count, crops.Count, "crops"));
            }
        }
        finally
        {
            cached?.Dispose();
        }
        double cropsPerSecond = computed / Math.Max(loop.Elapsed.TotalSeconds, 1e-9);

        var results = new float[crops.Count * 2];
        using (var rows = NpyRowFile.OpenRead(Path.Combine(partial, RunLayout.CropsFile))) rows.ReadRows(0, results);
        var summary = new ConsistencySummaryRecord
        {
            Protocol = r.Diagonal ? ConsistencySummaryRecord.DiagonalProtocol : ConsistencySummaryRecord.PairsProtocol,
            Tool = "shiftbench", CommandLine = r.CommandLine,
            Model = r.ModelName, Variant = r.VariantName,
            Weights = r.Weights.ToString(), WeightsSha256 = weightsSha.Length > 0 ? weightsSha : null,
            Onnx = RecordFile.Element(r.Onnx?.Describe()),
            Images = Path.GetFullPath(r.ImagesDir), ImageCount = images.Count,
            Labels = r.LabelsFile is null ? null : Path.GetFullPath(r.LabelsFile),
            Resize = Resize, Crop = Crop,
        };
        string staging = job.BeginStaging();
        summary = r.Diagonal ? WriteDiagonal(r, staging, images, results, summary) : WritePairs(r, staging, images, pairs!, results, summary);
        summary = summary with
        {
            Device = r.Device.ToString(),
            BatchSize = r.BatchSize,
            Precision = r.Precision.Name(),
            CropsPerSecond = Math.Round(cropsPerSecond, 3),
            Fingerprint = fingerprint,
            FinishedUtc = DateTime.UtcNow.ToString("o"),
            Complete = true,
        };
        summary.Write(staging);
        job.Commit(fingerprint, RunLayout.SummaryJson);
        return new ConsistencyResult(runDir, false, summary);
    }

    /// <summary>The 256x256 image as normalised float32 [3, 256, 256] on the device (ToTensor's /255, then Normalize).</summary>
    static Tensor Normalised(string path, Tensor mean, Tensor std, Device device)
    {
        var (rgb, width, height) = ImageFolder.LoadRgb(path);
        var square = ImageFolder.ResizeCenterCrop(rgb, width, height, Resize, Resize);
        using var scope = NewDisposeScope();
        var chw = tensor(square, [Resize, Resize, 3], ScalarType.Byte).to(device).permute(2, 0, 1).to(ScalarType.Float32);
        return chw.div(255f).sub_(mean).div_(std).contiguous().MoveToOuterDisposeScope();
    }

    static ConsistencySummaryRecord WritePairs(ConsistencyRequest r, string runDir, IReadOnlyList<FolderImage> images, IReadOnlyList<ShiftPair> pairs,
        float[] results, ConsistencySummaryRecord summary)
    {
        bool labelled = r.LabelsFile is not null;
        var csv = new StringBuilder(labelled ? "image,y1,x1,y2,x2,top1_a,top1_b,agree,label,correct_a,correct_b\n" : "image,y1,x1,y2,x2,top1_a,top1_b,agree\n");
        long agree = 0, correct = 0;
        for (int p = 0; p < pairs.Count; p++)
        {
            var image = images[p / r.PairsPerImage];
            int a = (int)results[4 * p], b = (int)results[4 * p + 2];
            var pair = pairs[p];
            bool same = a == b;
            if (same) agree++;
            csv.Append(CultureInfo.InvariantCulture, $"{CsvField(image.Name)},{pair.Y1},{pair.X1},{pair.Y2},{pair.X2},{a},{b},{(same ? 1 : 0)}");
            if (image.Label is int label)
            {
                correct += (a == label ? 1 : 0) + (b == label ? 1 : 0);
                csv.Append(CultureInfo.InvariantCulture, $",{label},{(a == label ? 1 : 0)},{(b == label ? 1 : 0)}");
            }
            csv.Append('\n');
        }
        AtomicFile.WriteAllText(Path.Combine(runDir, RunLayout.PairsCsv), csv.ToString());
        return summary with
        {
            PairsPerImage = r.PairsPerImage,
            MaxShift = r.MaxShift,
            Seed = r.Seed,
            Generator = "splitmix64, floor(draw * max_shift / 2^64), draws y1 x1 y2 x2 per pair",
            Pairs = pairs.Count,
            Interval = IntervalMethod,
            Consistency = Percent(Proportion.Wilson(agree, pairs.Count), "agreeing pairs"),
            Accuracy = labelled ? Percent(Proportion.Wilson(correct, 2L * pairs.Count), "correct crops (both crops of every pair)") : null,
        };
    }

    const string IntervalMethod = "95% Wilson score interval, treating pairs (and crops) as independent trials";

    static ConsistencySummaryRecord WriteDiagonal(ConsistencyRequest r, string runDir, IReadOnlyList<FolderImage> images, float[] results, ConsistencySummaryRecord summary)
    {
        var meanProb = new double[DiagonalShifts];
        var correct = new long[DiagonalShifts];
        for (int i = 0; i < images.Count; i++)
            for (int d = 0; d < DiagonalShifts; d++)
            {
                int row = i * DiagonalShifts + d;
                meanProb[d] += results[2 * row + 1];
                if ((int)results[2 * row] == images[i].Label) correct[d]++;
            }
        var csv = new StringBuilder("shift,images,mean_target_prob,accuracy,accuracy_low,accuracy_high\n");
        var shifts = new JsonArray();
        for (int d = 0; d < DiagonalShifts; d++)
        {
            meanProb[d] /= images.Count;
            var acc = Proportion.Wilson(correct[d], images.Count);
            csv.Append(CultureInfo.InvariantCulture, $"{d},{images.Count},{meanProb[d]:R},{acc.Value:R},{acc.Low:R},{acc.High:R}\n");
        }
        AtomicFile.WriteAllText(Path.Combine(runDir, RunLayout.Csv(RunLayout.DiagonalStem)), csv.ToString());
        foreach (string ext in new[] { ".png", ".svg" })
            AtomicFile.Write(Path.Combine(runDir, RunLayout.DiagonalStem + ext), tmp => Report.DiagonalPlot.Save(tmp, ext,
                $"{r.ModelName} {r.VariantName}: diagonal shift ({images.Count} images)", meanProb, [.. correct.Select(c => (double)c / images.Count)]));
        return summary with
        {
            Shifts = DiagonalShifts,
            Interval = IntervalMethod,
            MeanTargetProb = meanProb.Average(),
            Accuracy = Percent(Proportion.Wilson(correct.Sum(), (long)images.Count * DiagonalShifts), "correct crops over all shifts"),
        };
    }

    static SharePercent Percent(Proportion p, string of) => new(100 * p.Value, 100 * p.Low, 100 * p.High, p.Successes, p.Trials, of);

    static string CsvField(string text) => text.IndexOfAny([',', '"', '\n', '\r']) < 0 ? text : "\"" + text.Replace("\"", "\"\"") + "\"";

    /// <summary>What the run computes: network and weights, the images (names, sizes, times), labels, pairs and seed.</summary>
    static string Fingerprint(ConsistencyRequest r, IReadOnlyList<FolderImage> images, string weightsSha)
    {
        var key = new JsonObject
        {
            ["model"] = r.ModelName, ["variant"] = r.VariantName, ["weights"] = weightsSha.Length > 0 ? weightsSha : r.Weights.ToString(),
            ["onnx"] = r.Onnx?.Describe(), ["diagonal"] = r.Diagonal, ["pairs"] = r.PairsPerImage, ["max_shift"] = r.MaxShift, ["seed"] = r.Seed,
            ["images"] = new JsonArray([.. images.Select(i =>
            {
                var info = new FileInfo(i.Path);
                return (JsonNode)new JsonArray(i.Name, info.Length, info.LastWriteTimeUtc.Ticks, i.Label);
            })]),
        };
        if (r.Precision != Precision.Fp32) key[RunLayout.PrecisionField] = r.Precision.Name(); // fp32 keeps earlier fingerprints
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(key.ToJsonString())))[..16];
    }
}

/// <summary>The option values of `shiftbench consistency`, unparsed.</summary>
public sealed record ConsistencyChoices
{
    public required string Model { get; init; }
    public string Variant { get; init; } = "both";
    public required string Images { get; init; }
    public string? Labels { get; init; }
    public int PairsPerImage { get; init; } = ConsistencyRunner.DefaultPairsPerImage;
    public int MaxShift { get; init; } = ConsistencyRunner.DefaultMaxShift;
    public ulong Seed { get; init; }
    public bool Diagonal { get; init; }
    public string? Weights { get; init; }
    public string? WeightsDir { get; init; }
    public string Out { get; init; } = "out";
    public int? BatchSize { get; init; }
    public string Device { get; init; } = "cpu";
    public string Precision { get; init; } = RunLayout.DefaultPrecision;
    public bool Resume { get; init; }
    public string CommandLine { get; init; } = "";
    public OnnxOptions Onnx { get; init; } = new();

    /// <summary>One request per variant (one for an ONNX file), as `run` resolves --model, --variant and --weights.</summary>
    public IReadOnlyList<ConsistencyRequest> Build()
    {
        var device = ComputeDevice.Resolve(Device);
        var precision = Precisions.Parse(Precision);
        ConsistencyRequest Request(ModelEntry? zoo, OnnxModel? onnx, WeightsSource weights, int batch) => new()
        {
            Model = zoo, Onnx = onnx, Weights = weights, ImagesDir = Images, LabelsFile = Labels, PairsPerImage = PairsPerImage,
            MaxShift = MaxShift, Seed = Seed, Diagonal = Diagonal, OutRoot = Out, BatchSize = BatchSize ?? batch, Device = device,
            Precision = precision, Resume = Resume, CommandLine = CommandLine,
        };
        if (RunRequestBuilder.LoadOnnx(Model, Onnx) is { } model)
        {
            if (Weights is not null) throw new ShiftBenchException("--weights does not apply to an ONNX model: its weights are inside the file");
            return [Request(null, model, WeightsSource.File(model.Path), model.FixedBatch ?? OnnxModel.DefaultBatchSize)];
        }
        var variants = Assets.AssetManifest.ParseVariants(Variant, ModelRegistry.FindArchitecture(Model).Name);
        bool synthetic = Weights == WeightsSource.DeterministicName;
        if (Weights is not null && variants.Count > 1 && !synthetic)
            throw new ShiftBenchException("--weights names one file, so it needs a single --variant (torchvision or antialiased)");
        var paths = Assets.AssetPaths.Resolve(WeightsDir, null);
        return [.. variants.Select(variant =>
        {
            var entry = ModelRegistry.Find(Model, variant);
            var weights = synthetic ? WeightsSource.Deterministic() : WeightsSource.File(Weights ?? Path.Combine(paths.WeightsDir, entry.FileName));
            return Request(entry, null, weights, entry.DefaultBatchSize);
        })];
    }
}
