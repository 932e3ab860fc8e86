using ShiftBench.Analysis;
using ShiftBench.Assets;
using ShiftBench.Datasets;
using ShiftBench.Models;
using ShiftBench.Models.Onnx;
using static TorchSharp.torch;

namespace ShiftBench.Runs;

/// <summary>The option values of `run` (and of commands that run the same way, such as `reproduce`), unparsed.</summary>
public sealed record RunChoices
{
    public required string Model { get; init; }
    public required string Dataset { get; init; }
    /// <summary>torchvision, antialiased or both.</summary>
    public string Variant { get; init; } = "both";
    /// <summary>Empty = every layer of the model.</summary>
    public IReadOnlyList<string> Layers { get; init; } = [];
    /// <summary>Empty = the study's anchors tl, tr, c, bl, br.</summary>
    public IReadOnlyList<string> Anchors { get; init; } = [];
    public int? Stride { get; init; }
    public int? BatchSize { get; init; }
    /// <summary>A weights file for one variant, `deterministic`, or null for the published files.</summary>
    public string? Weights { get; init; }
    public string? WeightsDir { get; init; }
    public string? DataDir { get; init; }
    public string Out { get; init; } = "out";
    public string Device { get; init; } = "cpu";
    /// <summary>fp32, bf16 or fp16 (see <see cref="Models.Precision"/>).</summary>
    public string Precision { get; init; } = "fp32";
    public bool Resume { get; init; }
    public double? Vmin { get; init; }
    /// <summary>Draws each run's pictures (see <see cref="RunRequest.Pictures"/>); null: grids only.</summary>
    public IRunPictures? Pictures { get; init; }
    public string CommandLine { get; init; } = "";
    /// <summary>Input settings for an ONNX --model (each null = PATH.onnx.yaml, else the default).</summary>
    public OnnxOptions Onnx { get; init; } = new();
    /// <summary>K/N: compute only that shard of each run (see <see cref="ShardSpec"/>).</summary>
    public string? Shard { get; init; }
    /// <summary>Assemble the runs from their shards instead of computing.</summary>
    public bool Merge { get; init; }
    /// <summary>--reuse: auto or off (see <see cref="Reuse.ReuseEngine"/>).</summary>
    public string Reuse { get; init; } = Runs.Reuse.ReuseEngine.Auto;
    /// <summary>--features: none (null), fp32 or fp16 (see <see cref="FeatureStorage"/>).</summary>
    public string? Features { get; init; }
}

/// <summary>Turns RunChoices into one RunRequest per variant: the single place where options become runs.</summary>
public static class RunRequestBuilder
{
    public static IReadOnlyList<RunRequest> Build(RunChoices choices)
    {
        var precision = Precisions.Parse(choices.Precision);
        choices.Pictures?.CheckMinimum(choices.Vmin);
        var features = FeatureStorages.Parse(choices.Features);
        if (LoadOnnx(choices.Model, choices.Onnx) is { } onnx)
        {
            Precisions.CheckSupported(precision, CPU, onnx: true);
            if (choices.Weights is not null)
                throw new ShiftBenchException("--weights does not apply to an ONNX model: its weights are inside the file");
            if (choices.Shard is not null || choices.Merge)
                throw new ShiftBenchException("--shard and --merge are not available for ONNX models yet: run the ONNX model whole");
            return
            [
                new RunRequest
                {
                    Onnx = onnx, Dataset = DatasetCatalog.Resolve(choices.Dataset), DataDir = AssetPaths.Resolve(choices.WeightsDir, choices.DataDir).DataDir,
                    Weights = WeightsSource.File(onnx.Path), Layers = choices.Layers, AnchorSpecs = choices.Anchors.Count > 0 ? choices.Anchors : Anchors.Named,
                    Stride = choices.Stride, BatchSize = choices.BatchSize ?? onnx.FixedBatch ?? OnnxModel.DefaultBatchSize, OutRoot = choices.Out,
                    Device = ComputeDevice.Resolve(choices.Device), Resume = choices.Resume, Vmin = choices.Vmin, Pictures = choices.Pictures, CommandLine = choices.CommandLine,
                    Reuse = choices.Reuse, Features = features,
                },
            ];
        }
        var variants = AssetManifest.ParseVariants(choices.Variant, ModelRegistry.FindArchitecture(choices.Model).Name);
        bool synthetic = choices.Weights == WeightsSource.DeterministicName;
        if (choices.Weights is not null && variants.Count > 1 && !synthetic)
            throw new ShiftBenchException("--weights names one file, so it needs a single --variant (torchvision or antialiased)");
        var dataset = DatasetCatalog.Resolve(choices.Dataset);
        var paths = AssetPaths.Resolve(choices.WeightsDir, choices.DataDir);
        var device = ComputeDevice.Resolve(choices.Device);
        Precisions.CheckSupported(precision, device, onnx: false);
        var anchors = choices.Anchors.Count > 0 ? choices.Anchors : Anchors.Named;
        var shard = choices.Shard is { } s ? ShardSpec.Parse(s) : null;
        if (shard is not null && choices.Merge) throw new ShiftBenchException("--shard and --merge are exclusive: compute shards first, then merge");
        return variants.Select(variant =>
        {
            var entry = ModelRegistry.Find(choices.Model, variant);
            var weights = synthetic ? WeightsSource.Deterministic()
                : WeightsSource.File(choices.Weights ?? Path.Combine(paths.WeightsDir, entry.FileName));
            var request = new RunRequest
            {
                Model = entry, Dataset = dataset, DataDir = paths.DataDir,
                Weights = weights, Layers = choices.Layers, AnchorSpecs = anchors,
                Stride = choices.Stride, BatchSize = choices.BatchSize ?? entry.DefaultBatchSize, OutRoot = choices.Out,
                Device = device, Precision = precision, Resume = choices.Resume || shard is not null || choices.Merge, Vmin = choices.Vmin, Pictures = choices.Pictures, CommandLine = choices.CommandLine,
                Shard = shard, MergeShards = choices.Merge, Reuse = choices.Reuse, Features = features,
            };
            return request with { RunArguments = ArgumentsOf(request) };
        }).ToList();
    }

    /// <summary>
    /// `run` arguments that rebuild this request (one variant, every default made explicit, paths absolute): kept
    /// beside each shard so `shiftbench merge RUN_DIR` builds the very same request.
    /// </summary>
    public static IReadOnlyList<string> ArgumentsOf(RunRequest r)
    {
        var args = new List<string>
        {
            "--model", r.Zoo.Model, "--variant", r.Zoo.VariantName,
            "--dataset", r.Dataset.ConfigPath.Length > 0 ? Path.GetFullPath(r.Dataset.ConfigPath) : r.Dataset.Name,
            "--weights", r.Weights.Path is { } w ? Path.GetFullPath(w) : WeightsSource.DeterministicName,
            "--data-dir", Path.GetFullPath(r.DataDir), "--out", Path.GetFullPath(r.OutRoot),
            "--batch-size", r.BatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (r.Stride is { } stride) args.AddRange(["--stride", stride.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        if (r.Layers.Count > 0) args.AddRange(["--layers", string.Join(',', r.Layers)]);
        args.AddRange(["--anchors", string.Join(',', r.AnchorSpecs)]);
        if (r.Precision != Precision.Fp32) args.AddRange([Precisions.OptionName, r.Precision.Name()]);
        if (r.Reuse != Runs.Reuse.ReuseEngine.Auto) args.AddRange(["--reuse", r.Reuse]);
        if (r.Features != FeatureStorage.None) args.AddRange([FeatureStorages.OptionName, r.Features.Name()]);
        if (r.Vmin is { } vmin) args.AddRange(["--vmin", vmin.ToString("R", System.Globalization.CultureInfo.InvariantCulture)]);
        return args;
    }

    /// <summary>
    /// The published weights and study images the runs need: an explicit --weights file (or synthetic
    /// weights) and user-made source images are left alone.
    /// </summary>
    public static IReadOnlyList<AssetEntry> NeededAssets(RunChoices choices, IReadOnlyList<RunRequest> requests)
    {
        bool publishedWeights = choices.Weights is null && requests[0].Model is not null; // an ONNX file holds its own
        return AssetManifest.BuiltIn.Select(
            publishedWeights ? requests[0].Zoo.Model : null, publishedWeights ? requests.Select(r => r.Zoo.Variant).ToList() : null,
            requests[0].Dataset.SourceFiles);
    }

    /// <summary>
    /// The ONNX file --model names, or the packaged network (<see cref="PackagedNetworks"/>), loaded and checked; null
    /// for a zoo name. Only a file takes the ONNX options: a packaged network brings its own preprocessing.
    /// </summary>
    public static OnnxModel? LoadOnnx(string model, OnnxOptions options)
    {
        if (OnnxModel.IsOnnxPath(model)) return OnnxModel.Load(model, options);
        var given = new (string Option, object? Value)[]
        {
            ("--name", options.Name), ("--logits", options.Logits), ("--input-size", options.Size),
            ("--mean", options.Mean), ("--std", options.Std), ("--channels", options.Channels),
        };
        var packaged = PackagedNetworks.Find(model);
        foreach (var (option, _) in given.Where(g => g.Value is not null))
            throw new ShiftBenchException($"{option} applies to ONNX models only (--model PATH.onnx){(packaged is null ? "" : $"; {packaged.Name} feeds its own preprocessing")}");
        return packaged is null ? null : OnnxModel.Load(packaged);
    }
}
