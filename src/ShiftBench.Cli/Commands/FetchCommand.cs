using System.CommandLine;
using ShiftBench.Assets;

namespace ShiftBench.Cli.Commands;

/// <summary>`shiftbench fetch`: download, list or verify the weights and source images.</summary>
public static class FetchCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "Fetch this model's weights (both variants unless --variant)." };
        var variant = new Option<string?>("--variant") { Description = "Variant names (comma-separated), both or all (default both)." };
        var dataset = new Option<string?>("--dataset") { Description = "Fetch the source images a dataset config names (configs/NAME.yaml or a .yaml path)." };
        var all = new Option<bool>("--all") { Description = "Fetch every known asset." };
        var list = new Option<bool>("--list") { Description = "Show which assets are present, missing or corrupt; download nothing." };
        var verify = new Option<bool>("--verify") { Description = "Check the SHA-256 of every present asset; exit 2 if one is corrupt." };

        var command = new Command("fetch",
            "Download the published weights and the study's images, verified by SHA-256 (resumable; SHIFTBENCH_MIRROR=URL for a mirror).")
        {
            model, variant, dataset, all, SharedOptions.WeightsDir, SharedOptions.DataDir, list, verify, SharedOptions.Offline,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.GuardAsync(async () =>
        {
            var paths = AssetPaths.Resolve(parse.GetValue(SharedOptions.WeightsDir), parse.GetValue(SharedOptions.DataDir));
            var manifest = AssetManifest.BuiltIn;
            string? modelName = parse.GetValue(model);
            string? variantText = parse.GetValue(variant);
            string? datasetName = parse.GetValue(dataset);
            bool inspectOnly = parse.GetValue(list) || parse.GetValue(verify);

            IReadOnlyList<string> datasetFiles = datasetName is null ? [] : DatasetSourceFiles.Read(DatasetSourceFiles.ConfigPath(datasetName));
            IReadOnlyList<AssetEntry> chosen;
            if (parse.GetValue(all) || (inspectOnly && modelName is null && variantText is null && datasetName is null))
                chosen = manifest.Entries;
            else if (modelName is null && variantText is null && datasetName is null)
                throw new ShiftBenchException("nothing to fetch: name --model, --variant, --dataset or --all (or use --list)");
            else
                chosen = manifest.Select(modelName, variantText is null ? (modelName is null ? null : AssetManifest.ParseVariants("both", modelName)) : AssetManifest.ParseVariants(variantText, modelName), datasetFiles);

            foreach (var file in datasetFiles.Where(f => manifest.Find(f) is null && !File.Exists(Path.Combine(paths.DataDir, f))))
                Console.Error.WriteLine($"note: {file} (named by dataset {datasetName}) is not a known asset: put it in {paths.DataDir}");

            if (inspectOnly)
                return await InspectAsync(chosen, paths, parse.GetValue(verify), cancellationToken);

            var options = FetchOptions.FromEnvironment(paths, parse.GetValue(SharedOptions.Offline));
            var ready = await ConsoleProgress.RunAsync(progress => AssetFetcher.EnsureAsync(chosen, options, progress, cancellationToken));
            foreach (var path in ready)
                Console.WriteLine($"ready    {path}");
            return 0;
        }));
        return command;
    }

    static async Task<int> InspectAsync(IReadOnlyList<AssetEntry> assets, AssetPaths paths, bool verify, CancellationToken cancellationToken)
    {
        var corrupt = new List<AssetStatus>();
        foreach (var asset in assets)
        {
            var status = await AssetFetcher.CheckAsync(asset, paths, cancellationToken);
            string note = status.State switch
            {
                AssetState.Present => verify ? $"sha256 {status.Sha256}" : "",
                AssetState.Corrupt => $"sha256 {status.Sha256} does not match {asset.Sha256}",
                _ => status.PartialBytes > 0 ? $"{status.PartialBytes} bytes downloaded, `fetch` resumes; {asset.Url}" : asset.Url,
            };
            Console.WriteLine($"{status.State.ToString().ToLowerInvariant(),-8} {asset.Kind.ToString().ToLowerInvariant(),-8} {status.Path}  {note}".TrimEnd());
            if (status.State == AssetState.Corrupt) corrupt.Add(status);
        }
        if (verify && corrupt.Count > 0)
            throw new ShiftBenchException(
                $"{corrupt.Count} corrupt asset(s): {string.Join("; ", corrupt.Select(s => s.Path))}; delete them or run `shiftbench fetch` for them to download them again");
        return 0;
    }
}
