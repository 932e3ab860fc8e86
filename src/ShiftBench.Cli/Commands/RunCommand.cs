using System.CommandLine;
using ShiftBench.Assets;
using ShiftBench.Models.Onnx;
using ShiftBench.Models;
using ShiftBench.Runs;

namespace ShiftBench.Cli.Commands;

public static class RunCommand
{
    public static readonly Option<string[]> Layers = new("--layers") { Description = "Layers to write (default: all of the model), e.g. fc6,fc7,class", AllowMultipleArgumentsPerToken = true };
    public static readonly Option<string[]> AnchorsOption = new("--anchors") { Description = "Anchors: tl,tr,c,bl,br or Y:X in pixels", AllowMultipleArgumentsPerToken = true };
    public static readonly Option<double?> Vmin = new("--vmin") { Description = "Bottom of the heatmap colour scale (default: each grid's minimum)" };

    public static readonly Option<string?> Shard = new("--shard") { Description = "K/N: compute only the K-th of N blocks of positions (resumable); `shiftbench merge RUN_DIR` assembles them" };
    public static readonly Option<string?> Features = new(FeatureStorages.OptionName) { Description = "Also keep the feature matrices, features-LAYER.npy: fp32, or fp16 (rounded, half the size). Default: none (grids and metrics are computed while the run streams)" };
    public static readonly Option<bool> Merge = new("--merge") { Description = "Assemble the run from its complete shards instead of computing (as `shiftbench merge`)" };

    public static Command Create()
    {
        var command = new Command("run", "Extract features at every shift and write cosine and class grids.")
        {
            SharedOptions.Model, SharedOptions.Dataset, SharedOptions.Variant, Layers, AnchorsOption, SharedOptions.Stride, SharedOptions.BatchSize,
            SharedOptions.Weights, SharedOptions.WeightsDir, SharedOptions.DataDir, SharedOptions.Out, SharedOptions.DeviceOption,
            SharedOptions.PrecisionOption, SharedOptions.Resume, SharedOptions.Offline, Vmin, Shard, Merge, SharedOptions.Reuse, Features,
        };
        foreach (var option in SharedOptions.OnnxOptionSet) command.Options.Add(option);
        command.SetAction((parse, cancel) => CliRunner.GuardAsync(async () =>
        {
            var choices = ReadChoices(parse);
            var requests = RunRequestBuilder.Build(choices);
            foreach (var request in requests) ExperimentRunner.Validate(request);
            await FetchMissingAssets(choices, requests, parse.GetValue(SharedOptions.Offline), cancel);
            foreach (var request in requests)
            {
                var result = await RunAsync(request, cancel);
                Console.WriteLine(Describe(result));
            }
            return 0;
        }));
        return command;
    }

    /// <summary>The options every running command shares, read into RunChoices (the rest keep their defaults).</summary>
    public static RunChoices ReadChoices(ParseResult parse) => new()
    {
        Model = parse.GetValue(SharedOptions.Model)!, Dataset = parse.GetValue(SharedOptions.Dataset)!, Variant = parse.GetValue(SharedOptions.Variant)!,
        Layers = parse.GetValue(Layers) ?? [], Anchors = parse.GetValue(AnchorsOption) ?? [],
        Stride = parse.GetValue(SharedOptions.Stride), BatchSize = parse.GetValue(SharedOptions.BatchSize), Weights = parse.GetValue(SharedOptions.Weights),
        WeightsDir = parse.GetValue(SharedOptions.WeightsDir), DataDir = parse.GetValue(SharedOptions.DataDir), Out = parse.GetValue(SharedOptions.Out)!,
        Device = parse.GetValue(SharedOptions.DeviceOption)!, Precision = parse.GetValue(SharedOptions.PrecisionOption) ?? Output.RunLayout.DefaultPrecision, Resume = parse.GetValue(SharedOptions.Resume), Vmin = parse.GetValue(Vmin),
        Pictures = Report.RunHeatmaps.Instance,
        CommandLine = CliApp.CommandLine,
        Onnx = parse.CommandResult.Command.Options.Contains(SharedOptions.Name) ? SharedOptions.ReadOnnxOptions(parse) : new(),
        Shard = parse.GetValue(Shard), Merge = parse.GetValue(Merge),
        Reuse = parse.CommandResult.Command.Options.Contains(SharedOptions.Reuse) ? parse.GetValue(SharedOptions.Reuse)! : Runs.Reuse.ReuseEngine.Auto,
        Features = parse.CommandResult.Command.Options.Contains(Features) ? parse.GetValue(Features) : null,
    };

    /// <summary>Downloads (and verifies) the published weights and study images the runs need, unless offline.</summary>
    public static async Task FetchMissingAssets(RunChoices choices, IReadOnlyList<RunRequest> requests, bool offline, CancellationToken cancel)
    {
        var needed = RunRequestBuilder.NeededAssets(choices, requests);
        if (needed.Count == 0) return;
        var options = FetchOptions.FromEnvironment(AssetPaths.Resolve(choices.WeightsDir, choices.DataDir), offline);
        await ConsoleProgress.RunAsync(p => AssetFetcher.EnsureAsync(needed, options, p, cancel));
    }

    public static Task<RunResult> RunAsync(RunRequest request, CancellationToken cancel) =>
        ConsoleProgress.RunAsync(p => Task.Run(() => ExperimentRunner.Run(request, p, cancel), cancel));

    public static string Describe(RunResult result) => result.Skipped
        ? $"{result.RunDirectory}: already complete (skipped)"
        : !result.Complete
        ? $"{result.RunDirectory}: {result.PositionsComputed} positions computed here, not complete yet"
        : $"{result.RunDirectory}: {result.Positions} positions, {result.ImagesPerSecond:F1} images/s";
}
