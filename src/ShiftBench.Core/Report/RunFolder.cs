using System.Globalization;
using System.Text.Json;
using ShiftBench.Output;

namespace ShiftBench.Report;

/// <summary>One grid of a run: a cosine map (`cos-LAYER-ANCHOR.csv`) or the class probability map (`class.csv`, Anchor null).</summary>
public sealed record GridFile(string Layer, string? Anchor, string Path);

/// <summary>
/// A finished run folder (OUT/dataset/model/variant/) as described in docs/output.md:
/// what run.json says plus the grid CSVs that are present.
/// </summary>
public sealed class RunFolder
{
    public const string ClassLayer = "class";

    public required string Dir { get; init; }
    public required string Model { get; init; }
    public required string Variant { get; init; }
    public required string Dataset { get; init; }
    /// <summary>run.json's "dataset", for <see cref="DatasetView.FromRunJson"/>.</summary>
    public required RunDataset DatasetSection { get; init; }
    public required int Rows { get; init; }
    public required int Cols { get; init; }
    public required int Stride { get; init; }
    public required IReadOnlyList<string> Layers { get; init; }
    /// <summary>Anchor name -> (y, x) in pixels of shift, in run.json order.</summary>
    public required IReadOnlyList<(string Name, int Y, int X)> Anchors { get; init; }
    public required IReadOnlyList<GridFile> Grids { get; init; }
    /// <summary>Summary PNG figures listed in run.json "figures" that exist.</summary>
    public required IReadOnlyList<string> Figures { get; init; }

    public GridFile? Find(string layer, string? anchor) =>
        Grids.FirstOrDefault(g => g.Layer == layer && (layer == ClassLayer || g.Anchor == anchor));

    /// <summary>Every complete run below root (run.json with "complete": true), sorted by dataset, model, variant.</summary>
    public static IReadOnlyList<RunFolder> FindAll(string root)
    {
        if (!Directory.Exists(root))
            throw new ShiftBenchException($"output folder '{root}' does not exist: pass the OUT folder a run wrote to");
        return FolderScan.Files(root, RunLayout.RunJson)
            .Select(p => TryLoad(Path.GetDirectoryName(p)!))
            .OfType<RunFolder>()
            .OrderBy(r => r.Dataset, StringComparer.Ordinal).ThenBy(r => r.Model, StringComparer.Ordinal).ThenBy(r => r.Variant, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Null for an incomplete run (still running or interrupted); throws for a malformed run.json.</summary>
    public static RunFolder? TryLoad(string dir)
    {
        if (RunRecord.ReadComplete(dir) is not { } run) return null;
        string jsonPath = RunRecord.PathIn(dir);
        int stride = run.Grid.Stride;
        var layers = run.Layers.Where(l => l != "").ToList();
        var anchors = new List<(string, int, int)>();
        foreach (var (name, yx) in run.Anchors)
        {
            if (yx is not { Length: 2 }) throw new ShiftBenchException($"{jsonPath}: anchor \"{name}\" must be [y, x]");
            anchors.Add((name, yx[0], yx[1]));
        }

        var grids = new List<GridFile>();
        foreach (var layer in layers)
        {
            if (layer == ClassLayer)
            {
                string p = Path.Combine(dir, RunLayout.Csv(RunLayout.ClassStem));
                if (File.Exists(p)) grids.Add(new GridFile(ClassLayer, null, p));
                continue;
            }
            foreach (var (name, _, _) in anchors)
            {
                string p = Path.Combine(dir, RunLayout.Csv(RunLayout.CosineStem(layer, name)));
                if (File.Exists(p)) grids.Add(new GridFile(layer, name, p));
            }
        }

        var figures = new List<string>();
        foreach (var name in run.Figures ?? [])
            // A figure is a file of the run folder itself: a path (`../x.png`, `/etc/x.png`) is not one.
            if (name == Path.GetFileName(name) && name.EndsWith(".png", StringComparison.OrdinalIgnoreCase) && File.Exists(Path.Combine(dir, name)))
                figures.Add(Path.Combine(dir, name));

        int rows = run.Grid.Rows, cols = run.Grid.Cols;
        // Grids are read whole into memory: sizes come from disk, so they get the datasets' own bounds.
        if (rows is < 1 or > Datasets.InputLimits.MaxOffsetsPerAxis || cols is < 1 or > Datasets.InputLimits.MaxOffsetsPerAxis)
            throw new ShiftBenchException($"{jsonPath}: grid {rows}x{cols} must be 1..{Datasets.InputLimits.MaxOffsetsPerAxis} on each side; rerun that run or delete the folder");
        if (stride < 1) throw new ShiftBenchException($"{jsonPath}: stride {stride} must be 1 or more; rerun that run or delete the folder");
        return new RunFolder
        {
            Dir = dir,
            Model = run.Model,
            Variant = run.Variant,
            Dataset = run.Dataset.Name,
            DatasetSection = run.Dataset,
            Rows = rows,
            Cols = cols,
            Stride = stride,
            Layers = layers,
            Anchors = anchors,
            Grids = grids,
            Figures = figures,
        };
    }

    /// <summary>Reads a y,x,val grid CSV into [rows, cols]; positions not in the file are NaN.</summary>
    public double[,] ReadGrid(GridFile file) => ReadGrid(file.Path, Rows, Cols, Stride);

    public static double[,] ReadGrid(string path, int rows, int cols, int stride)
    {
        var grid = new double[rows, cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                grid[r, c] = double.NaN;
        using var each = GridCsv.Rows(path).GetEnumerator();
        while (true)
        {
            try { if (!each.MoveNext()) break; }
            catch (FormatException e) { throw new ShiftBenchException($"{path}: {e.Message}; the file is not a ShiftBench grid"); }
            var (lineNo, y, x, val) = each.Current;
            if (y % stride != 0 || x % stride != 0 || y / stride >= rows || x / stride >= cols || y < 0 || x < 0)
                throw new ShiftBenchException($"{path}:{lineNo}: position ({y}, {x}) is outside the {rows}x{cols} grid of stride {stride} in run.json");
            grid[y / stride, x / stride] = val;
        }
        return grid;
    }
}
