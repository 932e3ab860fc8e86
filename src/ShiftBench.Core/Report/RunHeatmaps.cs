using ShiftBench.Output;
using ShiftBench.Runs;

namespace ShiftBench.Report;

/// <summary>
/// The heatmap beside every grid a run writes (cos-*.png, eq-*.png, class.png, a patches run's mean and -std
/// pictures), drawn from the staged CSV files, which hold every value exactly (GridCsv writes round-trip numbers).
/// </summary>
public sealed class RunHeatmaps : IRunPictures
{
    public static readonly RunHeatmaps Instance = new();

    public void CheckMinimum(double? vmin) => ColorScale.CheckMinimum(vmin);

    public void Draw(StagedGrids run)
    {
        var request = run.Request;
        string prefix = $"{request.ModelName} ({request.VariantName})";
        string suffix = $" - {request.Dataset.Name}";
        foreach (var staged in run.Grids)
        {
            string stem = Path.Combine(run.Folder, staged.Stem);
            var (grid, _) = GridCsv.Read(RunLayout.Csv(stem));
            var (vmin, vmax, title) = staged.Kind switch
            {
                StagedGridKind.Cosine => (request.Vmin ?? Min(grid), 1.0, $"{prefix} {staged.Layer} anchor {staged.Anchor}{suffix}"),
                StagedGridKind.Equivariance => (0, Math.Max(1e-12, grid.Cast<double>().Where(double.IsFinite).DefaultIfEmpty(0).Max()),
                    $"{prefix} {staged.Layer} equivariance distance, anchor {staged.Anchor}, cell {staged.CellStride} px{suffix}"),
                StagedGridKind.Class => (request.Vmin ?? Min(grid), 1.0, $"{prefix} class p(class {request.Dataset.TargetClass}){suffix}"),
                StagedGridKind.PatchMean => (request.Vmin ?? Min(grid), 1.0, PatchTitle(staged.Stem)),
                StagedGridKind.PatchSpread => (0, Math.Max(grid.Cast<double>().Max(), 1e-12), "std of " + PatchTitle(staged.Stem[..^RunLayout.StdSuffix.Length])),
                _ => throw new ArgumentOutOfRangeException(nameof(run), staged.Kind, "a grid kind without a picture"),
            };
            AtomicFile.Write(RunLayout.Png(stem), tmp => Heatmap.SavePng(tmp, grid, run.Stride, vmin, vmax, title));
        }

        string PatchTitle(string meanStem) => $"{prefix} {meanStem}{suffix}, mean of {run.Patches} patches";
    }

    static double Min(double[,] grid) => grid.Cast<double>().Min();
}
