using System.CommandLine;
using ShiftBench.Assets;
using ShiftBench.Models.Onnx;
using ShiftBench.Models;
using ShiftBench.Runs;

namespace ShiftBench.Cli.Commands;

public static class RunCommand
{
    public static readonly Option<string> Model = new("--model") { Description = "Network: " + string.Join(", ", ModelRegistry.ModelNames) + " (`shiftbench models`), " + string.Join(", ", PackagedNetworks.Names) + " (no download), or PATH.onnx", Required = true };
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
    public static readonly Option<string> PrecisionOption = new(Precisions.OptionName) { Description = "Number format of the network: fp32, bf16 (CPU or CUDA) or fp16 (CUDA only); runs of another precision need their own --out", DefaultValueFactory = _ => "fp32" };
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
    public static readonly Option<string?> Shard = new("--shard") { Description = "K/N: compute only the K-th of N blocks of positions (resumable); `shiftbench merge RUN_DIR` assembles them" };
    public static readonly Option<string> Reuse = new("--reuse") { Description = "auto: reuse computation shared by neighbouring positions, exactly, where it was measured to pay (crop and patch datasets; every zoo family but DenseNet); on: wherever it applies; off: brute force", DefaultValueFactory = _ => Runs.Reuse.ReuseEngine.Auto };
    public static readonly Option<string?> Features = new(FeatureStorages.OptionName) { Description = "Also keep the feature matrices, features-LAYER.npy: fp32, or fp16 (rounded, half the size). Default: none (grids and metrics are computed while the run streams)" };
    public static readonly Option<bool> Merge = new("--merge") { Description = "Assemble the run from its complete shards instead of computing (as `shiftbench merge`)" };

    public static Command Create()
    {
        var command = new Command("run", "Extract features at every shift and write cosine and class grids.")
        {
            Model, Dataset, Variant, Layers, AnchorsOption, Stride, BatchSize, Weights, WeightsDir, DataDir, Out, DeviceOption, PrecisionOption, Resume, Offline, Vmin,
            Shard, Merge, Reuse, Features,
        };
        foreach (var option in OnnxOptionSet) command.Options.Add(option);
        command.SetAction((parse, cancel) => CliRunner.GuardAsync(async () =>
        {
            var choices = ReadChoices(parse);
            var requests = RunRequestBuilder.Build(choices);
            foreach (var request in requests) ExperimentRunner.Validate(request);
            await FetchMissingAssets(choices, requests, parse.GetValue(Offline), cancel);
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
        Model = parse.GetValue(Model)!, Dataset = parse.GetValue(Dataset)!, Variant = parse.GetValue(Variant)!,
        Layers = parse.GetValue(Layers) ?? [], Anchors = parse.GetValue(AnchorsOption) ?? [],
        Stride = parse.GetValue(Stride), BatchSize = parse.GetValue(BatchSize), Weights = parse.GetValue(Weights),
        WeightsDir = parse.GetValue(WeightsDir), DataDir = parse.GetValue(DataDir), Out = parse.GetValue(Out)!,
        Device = parse.GetValue(DeviceOption)!, Precision = parse.GetValue(PrecisionOption) ?? Output.RunLayout.DefaultPrecision, Resume = parse.GetValue(Resume), Vmin = parse.GetValue(Vmin),
        CommandLine = CliApp.CommandLine,
        Onnx = parse.CommandResult.Command.Options.Contains(Name) ? ReadOnnxOptions(parse) : new(),
        Shard = parse.GetValue(Shard), Merge = parse.GetValue(Merge),
        Reuse = parse.CommandResult.Command.Options.Contains(Reuse) ? parse.GetValue(Reuse)! : Runs.Reuse.ReuseEngine.Auto,
        Features = parse.CommandResult.Command.Options.Contains(Features) ? parse.GetValue(Features) : null,
    };

    /// <summary>The ONNX options as given (unset ones null); the command must have added <see cref="OnnxOptionSet"/>.</summary>
    public static OnnxOptions ReadOnnxOptions(ParseResult parse) => new()
    {
        Name = parse.GetValue(Name), Logits = parse.GetValue(Logits), Size = parse.GetValue(InputSize),
        Mean = Numbers(parse.GetValue(Mean), "--mean"), Std = Numbers(parse.GetValue(Std), "--std"), Channels = parse.GetValue(Channels),
    };

    /// <summary>The ONNX model --model names with the input options, or null for a zoo name.</summary>
    public static OnnxModel? LoadOnnx(ParseResult parse, string model) => RunRequestBuilder.LoadOnnx(model, ReadOnnxOptions(parse));

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
