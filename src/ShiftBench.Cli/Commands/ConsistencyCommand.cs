using System.CommandLine;
using System.Globalization;
using ShiftBench.Assets;
using ShiftBench.Runs;
using ShiftBench.Workflows;

namespace ShiftBench.Cli.Commands;

/// <summary>`shiftbench consistency`: Zhang's ImageNet shift consistency (random crop pairs) or diagonal sweep on a folder of images.</summary>
public static class ConsistencyCommand
{
    public static Command Create()
    {
        var images = new Option<string>("--images") { Description = "Folder of .jpg/.jpeg/.png images (searched recursively)", Required = true };
        var labels = new Option<string?>("--labels") { Description = "File of `NAME CLASS_INDEX` lines, NAME relative to --images: adds accuracy" };
        var pairs = new Option<int>("--pairs-per-image") { Description = "Random crop pairs per image", DefaultValueFactory = _ => ConsistencyRunner.DefaultPairsPerImage };
        var maxShift = new Option<int>("--max-shift") { Description = "Crop offsets are drawn from 0..max-shift-1 per axis", DefaultValueFactory = _ => ConsistencyRunner.DefaultMaxShift };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the SplitMix64 offset generator", DefaultValueFactory = _ => 0UL };
        var diagonal = new Option<bool>("--diagonal") { Description = "Zhang's diagonal sweep instead: crops at (d, d), d = 0..32; needs --labels" };
        var command = new Command("consistency", "Shift consistency of a network's top-1 class on a folder of images (Zhang's protocol), or its diagonal sweep.")
        {
            SharedOptions.Model, SharedOptions.Variant, images, labels, pairs, maxShift, seed, diagonal, SharedOptions.Weights, SharedOptions.WeightsDir,
            SharedOptions.Out, SharedOptions.BatchSize, SharedOptions.DeviceOption, SharedOptions.PrecisionOption, SharedOptions.Resume, SharedOptions.Offline,
        };
        foreach (var option in SharedOptions.OnnxOptionSet) command.Options.Add(option);
        command.SetAction((parse, cancel) => CliRunner.GuardAsync(async () =>
        {
            var choices = new ConsistencyChoices
            {
                Model = parse.GetValue(SharedOptions.Model)!, Variant = parse.GetValue(SharedOptions.Variant)!, Images = parse.GetValue(images)!,
                Labels = parse.GetValue(labels), PairsPerImage = parse.GetValue(pairs), MaxShift = parse.GetValue(maxShift), Seed = parse.GetValue(seed),
                Diagonal = parse.GetValue(diagonal), Weights = parse.GetValue(SharedOptions.Weights), WeightsDir = parse.GetValue(SharedOptions.WeightsDir),
                Out = parse.GetValue(SharedOptions.Out)!, BatchSize = parse.GetValue(SharedOptions.BatchSize), Device = parse.GetValue(SharedOptions.DeviceOption)!,
                Precision = parse.GetValue(SharedOptions.PrecisionOption) ?? Output.RunLayout.DefaultPrecision, Resume = parse.GetValue(SharedOptions.Resume), Onnx = SharedOptions.ReadOnnxOptions(parse),
                CommandLine = CliApp.CommandLine,
            };
            var requests = choices.Build();
            foreach (var request in requests) ConsistencyRunner.Validate(request);
            if (choices.Weights is null && requests[0].Model is { } zoo)
            {
                var needed = AssetManifest.BuiltIn.Select(zoo.Model, requests.Select(r => r.Zoo.VariantName).ToList());
                var options = FetchOptions.FromEnvironment(AssetPaths.Resolve(choices.WeightsDir, null), parse.GetValue(SharedOptions.Offline));
                await ConsoleProgress.RunAsync(p => AssetFetcher.EnsureAsync(needed, options, p, cancel));
            }
            foreach (var request in requests)
            {
                var result = await ConsoleProgress.RunAsync(p => Task.Run(() => ConsistencyRunner.Run(request, p, cancel), cancel));
                Console.WriteLine(Describe(result));
            }
            return 0;
        }));
        return command;
    }

    static string Describe(ConsistencyResult result)
    {
        var s = result.Summary;
        static string Share(string key, Output.SharePercent? p) => p is not null
            ? string.Create(CultureInfo.InvariantCulture, $"{key} {p.Percent:F2}% [{p.Low:F2}, {p.High:F2}] ({p.Count}/{p.Of})")
            : $"{key} -";
        string head = $"{result.RunDirectory}{(result.Skipped ? " (already complete, skipped)" : "")}:";
        return s.Protocol == Output.ConsistencySummaryRecord.DiagonalProtocol
            ? string.Create(CultureInfo.InvariantCulture, $"{head} mean target probability {100 * s.MeanTargetProb:F2}%, {Share("accuracy", s.Accuracy)}")
            : $"{head} {Share("consistency", s.Consistency)}, {Share("accuracy", s.Accuracy)}";
    }
}
