using ShiftBench.Models;
using ShiftBench.Output;

namespace ShiftBench.Runs;

/// <summary>
/// A `patches` dataset (the study's figure 3): each patch is an ordinary run inside RUN/patches/NAME/,
/// each against its own anchors; the run folder then holds the mean grid over patches under the usual
/// names (cos-L-A.csv/png, class.csv/png) and the per-position standard deviation as *-std.csv/png.
/// </summary>
public static class MultiPatchRunner
{
    public static RunResult Run(RunRequest request, IProgress<ProgressUpdate>? progress, CancellationToken cancel)
    {
        var patches = request.Dataset.ExpandPatches(request.DataDir);
        var layers = request.ResolveLayers();
        if (layers.Contains(ModelEntry.ClassLayer) && patches.FirstOrDefault(p => p.TargetClass is null) is { } unlabelled)
            throw new ShiftBenchException($"{request.Dataset.ConfigPath}: patch {unlabelled.Name} has no target class; add target_class or list it in patches.classes, or leave out the class layer (--layers)");

        string runDir = request.RunDirectory;
        Directory.CreateDirectory(runDir);
        // The patches' runs each hold their own folder; this job holds the mean grids and run.json.
        using var job = ResultJob.Open(runDir);
        RunLayout.MarkIncomplete(runDir);
        var results = patches.Select(patch => ExperimentRunner.Run(request with
        {
            Dataset = patch,
            RunDirectoryOverride = Path.Combine(runDir, RunLayout.PatchesFolder, patch.Name),
        }, progress, cancel)).ToList();

        var records = results.Select(r => RunRecord.ReadComplete(r.RunDirectory)
            ?? throw new ShiftBenchException($"{r.RunDirectory} holds no complete run; run again with --resume")).ToList();
        var first = records[0];
        string fingerprint = string.Join('+', records.Select(r => r.Fingerprint));
        if (request.Resume && job.FinishPendingCommit(fingerprint))
            return new RunResult(runDir, true, true, results.Sum(r => r.Positions), 0, 0, new RunTimings());
        string staging = job.BeginStaging();
        int stride = first.Grid.Stride;
        var grids = layers.Where(l => l != ModelEntry.ClassLayer)
            .SelectMany(l => first.Anchors.Keys.Select(a => RunLayout.CosineStem(l, a)))
            .Concat(layers.Contains(ModelEntry.ClassLayer) ? [RunLayout.ClassStem] : []);
        var pictures = new List<StagedGrid>();
        foreach (var stem in grids)
        {
            var perPatch = results.Select(r => GridCsv.Read(Path.Combine(r.RunDirectory, RunLayout.Csv(stem)))).ToList();
            var offsets = perPatch[0].Offsets;
            var (mean, std) = MeanAndStd(perPatch.Select(p => p.Grid).ToList());
            GridCsv.Write(Path.Combine(staging, RunLayout.Csv(stem)), mean, offsets);
            GridCsv.Write(Path.Combine(staging, RunLayout.Csv(stem + RunLayout.StdSuffix)), std, offsets);
            pictures.Add(new StagedGrid(stem, StagedGridKind.PatchMean));
            pictures.Add(new StagedGrid(stem + RunLayout.StdSuffix, StagedGridKind.PatchSpread));
        }
        request.Pictures?.Draw(new StagedGrids(staging, request, stride, pictures, patches.Count));

        // run.json: the first patch's record, naming the patches dataset and its patches.
        var run = first with
        {
            Command = request.CommandLine,
            Dataset = ExperimentRunner.DatasetRecord(request.Dataset, [.. records.Select(r => r.Dataset.Sources![0])]),
            ImagesPerSecond = Math.Round(results.Average(r => r.ImagesPerSecond), 3),
            Complete = true,
            Patches = [.. patches.Select(p => p.Name)],
        };
        run.Write(staging);
        job.Commit(fingerprint, RunLayout.RunJson);
        return new RunResult(runDir, true, results.All(r => r.Skipped), results.Sum(r => r.Positions), results.Sum(r => r.PositionsComputed),
            run.ImagesPerSecond.Value, new RunTimings { TotalSeconds = results.Sum(r => r.Timings.TotalSeconds) });
    }

    /// <summary>Per-position mean and population standard deviation over patches.</summary>
    public static (double[,] Mean, double[,] Std) MeanAndStd(IReadOnlyList<double[,]> grids)
    {
        int rows = grids[0].GetLength(0), cols = grids[0].GetLength(1);
        var mean = new double[rows, cols];
        var std = new double[rows, cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
            {
                double m = grids.Average(g => g[r, c]);
                mean[r, c] = m;
                std[r, c] = Math.Sqrt(grids.Average(g => (g[r, c] - m) * (g[r, c] - m)));
            }
        return (mean, std);
    }
}
