using System.CommandLine;
using ShiftBench.Assets;
using ShiftBench.Datasets;
using ShiftBench.Models;
using ShiftBench.Models.Onnx;
using ShiftBench.Runs;

namespace ShiftBench.Cli.Commands;

public static class RunCommand
{
    public static readonly Option<string> Model = new("--model") { Description = "Network: alexnet, vgg16, resnet50, mobilenet_v2, or PATH.onnx", Required = true };
    public static readonly Option<string> Dataset = new("--dataset") { Description = "Dataset name (configs/NAME.yaml) or path to a YAML config", Required = true };
    public static readonly Option<string> Variant = new("--variant") { Description = "torchvision, antialiased or both", DefaultValueFactory = _ => "both" };
    public static readonly Option<string[]> Layers = new("--layers") { Description = "Layers to write (default: all of the model), e.g. fc6,fc7,class", AllowMultipleArgumentsPerToken = true };
    public static readonly Option<string[]> AnchorsOption = new("--anchors") { Description = "Anchors: tl,tr,c,bl,br or Y:X in pixels", AllowMultipleArgumentsPerToken = true };
    public static readonly Option<int?> Stride = new("--stride") { Description = "Step between positions in pixels (default: the dataset's, 1)" };
    public static readonly Option<int?> BatchSize = new("--batch-size") { Description = "Images per forward pass (default: the model's measured best)" };
    public static readonly Option<string?> Weights = new("--weights") { Description = "Weights file for a single --variant ('deterministic' = synthetic weights for tests and demos)" };
    public static readonly Option<string?> WeightsDir = new("--weights-dir") { Description = "Folder of published weight files (default $SHIFTBENCH_WEIGHTS, else weights/)" };
    public static readonly Option<string?> DataDir = new("--data-dir") { Description = "Folder of source images (default $SHIFTBENCH_DATA, else data/)" };
    public static readonly Option<string> Out = new("--out") { Description = "Output root", DefaultValueFactory = _ => "out" };
    public static readonly Option<string> DeviceOption = new("--device") { Description = "auto, cpu or cuda", DefaultValueFactory = _ => "cpu" };
    public static readonly Option<bool> Resume = new("--resume") { Description = "Continue an interrupted run (finished runs are skipped)" };
    public static readonly Option<bool> Offline = new("--offline") { Description = "Never download; missing files are an error (also SHIFTBENCH_OFFLINE=1)" };
    public static readonly Option<double?> Vmin = new("--vmin") { Description = "Bottom of the heatmap colour scale (default: each grid's minimum)" };
    // ONNX models only; each overrides PATH.onnx.yaml.
    public static readonly Option<string?> Name = new("--name") { Description = "ONNX: run folder name (OUT/DATASET/NAME/onnx; default the file stem)" };
    public static readonly Option<string?> Logits = new("--logits") { Description = "ONNX: tensor holding the logits (default: the first graph output)" };
    public static readonly Option<int?> InputSize = new("--input-size") { Description = "ONNX: input height = width in pixels (default 224)" };
    public static readonly Option<string?> Mean = new("--mean") { Description = "ONNX: per-channel mean R,G,B of inputs in [0,1] (default ImageNet's)" };
    public static readonly Option<string?> Std = new("--std") { Description = "ONNX: per-channel std R,G,B (default ImageNet's)" };
    public static readonly Option<string?> Channels = new("--channels") { Description = "ONNX: channel order the network expects, rgb or bgr (default rgb)" };

    /// <summary>The ONNX options, for every command that takes --model PATH.onnx.</summary>
    public static readonly Option[] OnnxOptionSet = [Name, Logits, InputSize, Mean, Std, Channels];

    public static Command Create()
    {
        var command = new Command("run", "Extract features at every shift and write cosine and class grids.")
        {
            Model, Dataset, Variant, Layers, AnchorsOption, Stride, BatchSize, Weights, WeightsDir, DataDir, Out, DeviceOption, Resume, Offline, Vmin,
        };
        foreach (var option in OnnxOptionSet) command.Options.Add(option);
        command.SetAction((parse, cancel) => CliRunner.GuardAsync(async () =>
        {
            var requests = BuildRequests(parse);
            foreach (var request in requests) ExperimentRunner.Validate(request);
            await FetchMissingAssets(parse, requests, cancel);
            foreach (var request in requests)
            {
                var result = await ConsoleProgress.RunAsync(p => Task.Run(() => ExperimentRunner.Run(request, p, cancel), cancel));
                Console.WriteLine(result.Skipped
                    ? $"{result.RunDirectory}: already complete (skipped)"
                    : $"{result.RunDirectory}: {result.Positions} positions, {result.ImagesPerSecond:F1} images/s");
            }
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// Downloads (and verifies) the published weights and study images the runs need, unless offline;
    /// an explicit --weights file and user-made source images are left alone.
    /// </summary>
    static async Task FetchMissingAssets(ParseResult parse, IReadOnlyList<RunRequest> requests, CancellationToken cancel)
    {
        var paths = AssetPaths.Resolve(parse.GetValue(WeightsDir), parse.GetValue(DataDir));
        bool publishedWeights = parse.GetValue(Weights) is null && requests[0].Model is not null;
        var needed = AssetManifest.BuiltIn.Select(
            publishedWeights ? requests[0].Zoo.Model : null, publishedWeights ? requests.Select(r => r.Zoo.Variant).ToList() : null,
            requests[0].Dataset.SourceFiles);
        if (needed.Count == 0) return;
        var options = FetchOptions.FromEnvironment(paths, parse.GetValue(Offline));
        await ConsoleProgress.RunAsync(p => AssetFetcher.EnsureAsync(needed, options, p, cancel));
    }

    /// <summary>The ONNX model --model names with the input options, or null for a zoo name.</summary>
    public static OnnxModel? LoadOnnx(ParseResult parse, string model)
    {
        if (!OnnxModel.IsOnnxPath(model))
        {
            foreach (var option in OnnxOptionSet.Where(o => parse.GetResult(o) is { Implicit: false }))
                throw new ShiftBenchException($"{option.Name} applies to ONNX models only (--model PATH.onnx)");
            return null;
        }
        return OnnxModel.Load(model, new OnnxOptions
        {
            Name = parse.GetValue(Name), Logits = parse.GetValue(Logits), Size = parse.GetValue(InputSize),
            Mean = Numbers(parse.GetValue(Mean), "--mean"), Std = Numbers(parse.GetValue(Std), "--std"), Channels = parse.GetValue(Channels),
        });
    }

    static double[]? Numbers(string? text, string option)
    {
        if (text is null) return null;
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!double.TryParse(parts[i], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out values[i]))
                throw new ShiftBenchException($"{option} '{text}': give three numbers separated by commas, e.g. 0.485,0.456,0.406");
        return values;
    }

    static IReadOnlyList<RunRequest> BuildRequests(ParseResult parse)
    {
        string model = parse.GetValue(Model)!;
        if (LoadOnnx(parse, model) is { } onnx)
        {
            if (parse.GetValue(Weights) is not null)
                throw new ShiftBenchException("--weights does not apply to an ONNX model: its weights are inside the file");
            var onnxPaths = AssetPaths.Resolve(parse.GetValue(WeightsDir), parse.GetValue(DataDir));
            return
            [
                new RunRequest
                {
                    Onnx = onnx, Dataset = DatasetCatalog.Resolve(parse.GetValue(Dataset)!), DataDir = onnxPaths.DataDir,
                    Weights = WeightsSource.File(onnx.Path), Layers = parse.GetValue(Layers) ?? [],
                    AnchorSpecs = parse.GetValue(AnchorsOption) is { Length: > 0 } oa ? oa : Anchors.Named,
                    Stride = parse.GetValue(Stride), BatchSize = parse.GetValue(BatchSize) ?? onnx.FixedBatch ?? OnnxModel.DefaultBatchSize,
                    OutRoot = parse.GetValue(Out)!, Device = ComputeDevice.Resolve(parse.GetValue(DeviceOption)!),
                    Resume = parse.GetValue(Resume), Vmin = parse.GetValue(Vmin),
                    CommandLine = "shiftbench " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
                },
            ];
        }

        string variantText = parse.GetValue(Variant)!;
        var variants = variantText.Equals("both", StringComparison.OrdinalIgnoreCase)
            ? [ModelVariant.Torchvision, ModelVariant.Antialiased]
            : new[] { ModelRegistry.ParseVariant(variantText) };
        string? weightsFile = parse.GetValue(Weights);
        bool synthetic = weightsFile == WeightsSource.DeterministicName;
        if (weightsFile is not null && variants.Length > 1 && !synthetic)
            throw new ShiftBenchException("--weights names one file, so it needs a single --variant (torchvision or antialiased)");
        var dataset = DatasetCatalog.Resolve(parse.GetValue(Dataset)!);
        var paths = AssetPaths.Resolve(parse.GetValue(WeightsDir), parse.GetValue(DataDir));
        var device = ComputeDevice.Resolve(parse.GetValue(DeviceOption)!);
        var anchors = parse.GetValue(AnchorsOption) is { Length: > 0 } a ? a : Anchors.Named;
        return variants.Select(variant =>
        {
            var entry = ModelRegistry.Find(model, variant);
            var weights = synthetic ? WeightsSource.Deterministic()
                : WeightsSource.File(weightsFile ?? Path.Combine(paths.WeightsDir, entry.FileName));
            return new RunRequest
            {
                Model = entry, Dataset = dataset, DataDir = paths.DataDir,
                Weights = weights, Layers = parse.GetValue(Layers) ?? [], AnchorSpecs = anchors,
                Stride = parse.GetValue(Stride), BatchSize = parse.GetValue(BatchSize) ?? entry.DefaultBatchSize, OutRoot = parse.GetValue(Out)!,
                Device = device, Resume = parse.GetValue(Resume), Vmin = parse.GetValue(Vmin),
                CommandLine = "shiftbench " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
            };
        }).ToList();
    }
}
