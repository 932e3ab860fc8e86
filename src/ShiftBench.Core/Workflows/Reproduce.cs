using ShiftBench.Analysis;
using ShiftBench.Datasets;
using ShiftBench.Output;
using ShiftBench.Runs;
using ShiftBench.Site;

namespace ShiftBench.Workflows;

/// <summary>How close our grids must be to the site's: cosine grids absolutely, class probabilities relatively.</summary>
public sealed record Tolerances(double CosineAbsolute = 1e-4, double ClassRelative = 1e-3)
{
    public void Check()
    {
        if (!(CosineAbsolute >= 0) || !double.IsFinite(CosineAbsolute))
            throw new ShiftBenchException($"--cos-atol {CosineAbsolute} is invalid: use a number of 0 or more, e.g. 1e-4");
        if (!(ClassRelative >= 0) || !double.IsFinite(ClassRelative))
            throw new ShiftBenchException($"--class-rtol {ClassRelative} is invalid: use a number of 0 or more, e.g. 1e-3");
    }
}

/// <summary>
/// One site grid against our run's grid at every position the run has. The relative difference is
/// |ours - site| / max(|ours|, |site|) (0 where both are 0).
/// </summary>
public sealed record FileComparison(SiteGrid Site, string RunFile, int Positions, double MaxAbs, double MeanAbs, double MaxRelative,
    int WorstY, int WorstX, double Ours, double Theirs, bool Pass, string Tolerance);

/// <summary>`shiftbench reproduce`: checks that a run can be compared with the site, then compares it.</summary>
public static class Reproduce
{
    /// <summary>Side of the site's stride-1 grid for a dataset (every pixel shift).</summary>
    public static int SiteGridSize(DatasetConfig dataset) => dataset.Offsets(1).Count;

    /// <summary>
    /// Refuses, before any work, a dataset the site does not show and a stride whose grid would put the
    /// anchors elsewhere than the site's (the site's anchors are those of the stride-1 grid, e.g. berry's
    /// c = 62,62; at stride 4 our c would be 64,64, so those cosine grids would not be comparable).
    /// </summary>
    public static void CheckInputs(string datasetArgument, DatasetConfig dataset, int stride)
    {
        if (!StudySite.Datasets.Contains(datasetArgument) || dataset.Name != datasetArgument)
            throw new ShiftBenchException($"--dataset {datasetArgument}: the study's site has the datasets {string.Join(" and ", StudySite.Datasets)} only; give one of those names");
        if (stride < 1) throw new ShiftBenchException($"--stride {stride} is invalid: use 1 or more");
        if (!AnchorsMatch(dataset, stride))
        {
            var site = Anchors.Parse(Anchors.Named, dataset.Offsets(1));
            var ours = Anchors.Parse(Anchors.Named, dataset.Offsets(stride));
            var wrong = site.Zip(ours).Where(p => (p.First.Y, p.First.X) != (p.Second.Y, p.Second.X))
                .Select(p => $"{p.First.Name} at {p.Second.Y},{p.Second.X} instead of {p.First.Y},{p.First.X}");
            var good = Enumerable.Range(1, SiteGridSize(dataset)).Where(s => AnchorsMatch(dataset, s));
            throw new ShiftBenchException($"--stride {stride}: the run's grid would put anchor {string.Join(", ", wrong)} (the site's); " +
                $"use a stride whose grid holds the site's anchors: {string.Join(", ", good)}");
        }
    }

    static bool AnchorsMatch(DatasetConfig dataset, int stride) =>
        Anchors.Parse(Anchors.Named, dataset.Offsets(1)).Select(a => (a.Y, a.X))
            .SequenceEqual(Anchors.Parse(Anchors.Named, dataset.Offsets(stride)).Select(a => (a.Y, a.X)));

    /// <summary>Compares each site grid with the run's file at the run's positions (a subset of the site's).</summary>
    public static IReadOnlyList<FileComparison> Compare(string runDir, IEnumerable<SiteGrid> siteGrids, Tolerances tolerances)
    {
        if (!RunLayout.IsComplete(runDir))
            throw new ShiftBenchException($"{runDir} holds no complete run (run.json with \"complete\": true); run it again");
        var results = new List<FileComparison>();
        foreach (var site in siteGrids)
        {
            string path = Path.Combine(runDir, site.File.RunFile);
            if (!File.Exists(path))
                throw new ShiftBenchException($"{path} is missing from the complete run in {runDir}; rerun it with all layers and the anchors tl,tr,c,bl,br");
            var (ours, offsets) = GridCsv.Read(path);
            int size = site.Values.GetLength(0);
            if (offsets.Length == 0 || offsets[^1] >= size)
                throw new ShiftBenchException($"{path}: its positions do not fit the site's {size}x{size} grid; was the run made with another dataset config?");
            double maxAbs = 0, sumAbs = 0, maxRel = 0, worst = -1, worstOurs = 0, worstSite = 0;
            int worstY = 0, worstX = 0;
            for (int r = 0; r < offsets.Length; r++)
                for (int c = 0; c < offsets.Length; c++)
                {
                    double a = ours[r, c], b = site.Values[offsets[r], offsets[c]], d = Math.Abs(a - b);
                    double scale = Math.Max(Math.Abs(a), Math.Abs(b)), rel = scale > 0 ? d / scale : 0;
                    sumAbs += d;
                    maxAbs = Math.Max(maxAbs, d); // NaN stays NaN and fails
                    maxRel = Math.Max(maxRel, rel);
                    // The worst position by the measure that decides: absolute for cosine, relative for class.
                    double measure = site.File.IsClass ? rel : d;
                    if (measure > worst || (double.IsNaN(measure) && !double.IsNaN(worst)))
                        (worst, worstY, worstX, worstOurs, worstSite) = (measure, offsets[r], offsets[c], a, b);
                }
            int n = offsets.Length * offsets.Length;
            bool pass = site.File.IsClass ? maxRel <= tolerances.ClassRelative : maxAbs <= tolerances.CosineAbsolute;
            string tolerance = site.File.IsClass ? $"rel<={Number(tolerances.ClassRelative)}" : $"abs<={Number(tolerances.CosineAbsolute)}";
            results.Add(new FileComparison(site, path, n, maxAbs, sumAbs / n, maxRel, worstY, worstX, worstOurs, worstSite, pass, tolerance));
        }
        return results;
    }

    /// <summary>Numbers in the table: 4 significant digits, exponent form (1.234e-05).</summary>
    public static string Number(double value) => value.ToString("0.000e+00", System.Globalization.CultureInfo.InvariantCulture);
}
