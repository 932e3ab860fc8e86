using System.CommandLine;
using ShiftBench.Assets;
using ShiftBench.Datasets;
using ShiftBench.Models;
using ShiftBench.Runs;

namespace ShiftBench.Cli.Commands;

public static class RunCommand
{
    public static readonly Option<string> Model = new("--model") { Description = "Network: " + string.Join(", ", ModelRegistry.ModelNames) + " (`shiftbench models`)", Required = true };
    public static readonly Option<string> Dataset = new("--dataset") { Description = "Dataset name (configs/NAME.yaml) or path to a YAML config", Required = true };
    public static readonly Option<string> Variant = new("--variant") { Description = "Weights: torchvision, antialiased, antialiased-lpf2..5, antialiased-lpf4-finetune, comma-separated; both (torchvision,antialiased) or all", DefaultValueFactory = _ => "both" };
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

    public static Command Create()
    {
        var command = new Command("run", "Extract features at every shift and write cosine and class grids.")
        {
            Model, Dataset, Variant, Layers, AnchorsOption, Stride, BatchSize, Weights, WeightsDir, DataDir, Out, DeviceOption, Resume, Offline, Vmin,
        };
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
        bool publishedWeights = parse.GetValue(Weights) is null;
        var variants = requests.Select(r => r.Model.VariantName).ToList();
        var needed = AssetManifest.BuiltIn.Select(
            publishedWeights ? requests[0].Model.Model : null, publishedWeights ? variants : null,
            requests[0].Dataset.SourceFiles);
        if (needed.Count == 0) return;
        var options = FetchOptions.FromEnvironment(paths, parse.GetValue(Offline));
        await ConsoleProgress.RunAsync(p => AssetFetcher.EnsureAsync(needed, options, p, cancel));
    }

    static IReadOnlyList<RunRequest> BuildRequests(ParseResult parse)
    {
        string model = ModelRegistry.FindArchitecture(parse.GetValue(Model)!).Name;
        var variants = ModelRegistry.ParseVariants(parse.GetValue(Variant)!, model);
        string? weightsFile = parse.GetValue(Weights);
        bool synthetic = weightsFile == WeightsSource.DeterministicName;
        if (weightsFile is not null && variants.Count > 1 && !synthetic)
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
