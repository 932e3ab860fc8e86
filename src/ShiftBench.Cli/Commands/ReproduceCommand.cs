using System.CommandLine;
using ShiftBench.Analysis;
using ShiftBench.Assets;
using ShiftBench.Runs;
using ShiftBench.Site;
using ShiftBench.Workflows;

namespace ShiftBench.Cli.Commands;

/// <summary>
/// `reproduce`: runs what is missing (as `run --resume` would), gets the study site's grids for the same
/// network and dataset, and compares them at every position of the run. Stdout is only the table.
/// </summary>
public static class ReproduceCommand
{
    static readonly Option<string> Site = new("--site") { Description = "The site's CSV folder: a base URL or a local folder", DefaultValueFactory = _ => StudySite.BaseUrl };
    static readonly Option<string?> Cache = new("--cache") { Description = "Where downloaded site files are kept (default $XDG_CACHE_HOME/shiftbench/site, else ~/.cache/shiftbench/site)" };
    static readonly Option<double> CosAtol = new("--cos-atol") { Description = "Largest allowed |ours - site| of a cosine grid", DefaultValueFactory = _ => new Tolerances().CosineAbsolute };
    static readonly Option<double> ClassRtol = new("--class-rtol") { Description = "Largest allowed |ours - site| / max(|ours|, |site|) of the class grid", DefaultValueFactory = _ => new Tolerances().ClassRelative };

    public static Command Create()
    {
        var command = new Command("reproduce", "Compare a run (made if missing) with the grids the study's site publishes.")
        {
            SharedOptions.Model, SharedOptions.Dataset, SharedOptions.Variant, SharedOptions.Stride, SharedOptions.Weights, SharedOptions.WeightsDir,
            SharedOptions.DataDir, SharedOptions.BatchSize, SharedOptions.Out, SharedOptions.DeviceOption, SharedOptions.Offline,
            Site, Cache, CosAtol, ClassRtol,
        };
        command.SetAction((parse, cancel) => CliRunner.GuardAsync(async () =>
        {
            // Every layer at the study's anchors, resuming or reusing what --out already holds.
            var choices = RunCommand.ReadChoices(parse) with { Layers = [], Anchors = [], Resume = true, Vmin = null };
            var tolerances = new Tolerances(parse.GetValue(CosAtol), parse.GetValue(ClassRtol));
            tolerances.Check();
            var requests = RunRequestBuilder.Build(choices);
            var dataset = requests[0].Dataset;
            Reproduce.CheckInputs(choices.Dataset, dataset, choices.Stride ?? dataset.Stride);
            foreach (var request in requests) ExperimentRunner.Validate(request);

            // The site's files first: a missing or malformed one stops us before the long run.
            bool offline = parse.GetValue(SharedOptions.Offline);
            var fetch = FetchOptions.FromEnvironment(AssetPaths.Resolve(choices.WeightsDir, choices.DataDir), offline);
            string cacheDir = parse.GetValue(Cache) ?? SiteFiles.DefaultCacheDir();
            var siteGrids = new List<IReadOnlyList<SiteGrid>>();
            foreach (var request in requests)
            {
                var files = StudySite.Files(request.Model ?? throw new ShiftBenchException("reproduce compares the study's networks with its site: an ONNX --model has no published grids"), dataset.Name);
                siteGrids.Add(await ConsoleProgress.RunAsync(p =>
                    SiteFiles.LoadAsync(files, parse.GetValue(Site)!, cacheDir, Reproduce.SiteGridSize(dataset), fetch, p, cancel)));
            }

            await RunCommand.FetchMissingAssets(choices, requests, offline, cancel);
            var comparisons = new List<FileComparison>();
            for (int i = 0; i < requests.Count; i++)
            {
                var result = await RunCommand.RunAsync(requests[i], cancel);
                Console.Error.WriteLine(RunCommand.Describe(result));
                comparisons.AddRange(Reproduce.Compare(result.RunDirectory, siteGrids[i], tolerances));
            }

            PrintTable(comparisons);
            var failed = comparisons.Where(c => !c.Pass).ToList();
            if (failed.Count == 0)
            {
                Console.Error.WriteLine($"all {comparisons.Count} site files match within tolerance");
                return 0;
            }
            Console.Error.WriteLine($"{failed.Count} of {comparisons.Count} site file(s) differ beyond tolerance: " + string.Join("; ", failed.Select(f =>
                $"{f.Site.File.FileName} (worst at y={f.WorstY},x={f.WorstX}: ours {f.Ours:R}, site {f.Theirs:R}; {f.RunFile} vs {f.Site.Source})")));
            return 1;
        }));
        return command;
    }

    /// <summary>Whitespace-separated columns, one header line, no field holds a space.</summary>
    static void PrintTable(IReadOnlyList<FileComparison> rows)
    {
        string[] header = ["file", "max_abs_diff", "mean_abs_diff", "max_rel_diff", "positions", "tolerance", "result"];
        var lines = rows.Select(r => new[]
        {
            r.Site.File.FileName, Reproduce.Number(r.MaxAbs), Reproduce.Number(r.MeanAbs), Reproduce.Number(r.MaxRelative),
            r.Positions.ToString(System.Globalization.CultureInfo.InvariantCulture), r.Tolerance, r.Pass ? "ok" : "FAIL",
        }).Prepend(header).ToList();
        var widths = Enumerable.Range(0, header.Length).Select(c => lines.Max(l => l[c].Length)).ToArray();
        foreach (var line in lines)
            Console.WriteLine(string.Join("  ", line.Select((cell, c) => c == line.Length - 1 ? cell : cell.PadRight(widths[c]))));
    }
}
