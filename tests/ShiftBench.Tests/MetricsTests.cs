using System.Globalization;
using System.Text.Json.Nodes;
using ShiftBench.Analysis;

namespace ShiftBench.Tests;

[Category(TestTier.Fast)]
public class MetricsTests
{
    [Test]
    public void GridStatsOnAHandComputedGrid()
    {
        var s = InvarianceMetrics.Stats(new double[,] { { 1, 0.5 }, { 0.5, 0 } });
        Assert.That((s.Mean, s.Min), Is.EqualTo((0.5, 0.0)));
        Assert.That(s.Std, Is.EqualTo(Math.Sqrt(0.125)).Within(1e-15)); // deviations ±0.5, 0, 0
    }

    [Test]
    public void LocalAndGlobalOnAHandComputedGrid()
    {
        // 1x3 grid of unit vectors: (1,0), (0,1), (1,0). Neighbour pairs: 0 and 0 -> local 0.
        // Distinct pairs: (a,b)=0, (a,c)=1, (b,c)=0 -> global 1/3.
        var acc = new InvarianceMetrics.FeatureAccumulator(1, 3, 2);
        acc.Add([2f, 0f, 0f, 5f, 3f, 0f]);
        Assert.That(acc.Local, Is.EqualTo(0.0).Within(1e-15));
        Assert.That(acc.Global, Is.EqualTo(1.0 / 3).Within(1e-15));
    }

    [Test]
    public void LocalAndGlobalEqualBruteForceOnRandomFeatures()
    {
        const int rows = 5, cols = 7, dim = 11;
        var random = new Random(42);
        var f = Enumerable.Range(0, rows * cols * dim).Select(_ => (float)(random.NextDouble() * 2 - 0.7)).ToArray();
        var acc = new InvarianceMetrics.FeatureAccumulator(rows, cols, dim);
        acc.Add(f.AsSpan(0, 3 * dim));       // chunking must not matter
        acc.Add(f.AsSpan(3 * dim));

        double Cos(int i, int j)
        {
            double d = 0, a = 0, b = 0;
            for (int k = 0; k < dim; k++) { d += f[i * dim + k] * (double)f[j * dim + k]; a += f[i * dim + k] * (double)f[i * dim + k]; b += f[j * dim + k] * (double)f[j * dim + k]; }
            return d / Math.Sqrt(a * b);
        }
        double globalSum = 0; int pairs = 0;
        for (int i = 0; i < rows * cols; i++) for (int j = i + 1; j < rows * cols; j++) { globalSum += Cos(i, j); pairs++; }
        double localSum = 0; int neighbours = 0;
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++)
        {
            if (c + 1 < cols) { localSum += Cos(r * cols + c, r * cols + c + 1); neighbours++; }
            if (r + 1 < rows) { localSum += Cos(r * cols + c, (r + 1) * cols + c); neighbours++; }
        }
        Assert.That(acc.Global, Is.EqualTo(globalSum / pairs).Within(1e-12));
        Assert.That(acc.Local, Is.EqualTo(localSum / neighbours).Within(1e-12));
    }

    [Test]
    public void PeriodOfASyntheticGrid()
    {
        // cos(2π x / 8) along x, constant along y, grid step 4 px: period 8 steps = 32 px along x, none along y.
        var grid = new double[16, 24];
        for (int r = 0; r < 16; r++) for (int c = 0; c < 24; c++) grid[r, c] = 0.5 + 0.3 * Math.Cos(2 * Math.PI * c / 8);
        var p = InvarianceMetrics.Period(grid, stride: 4);
        Assert.That((p.PeriodY, p.PeriodX), Is.EqualTo((0.0, 32.0)));
        Assert.That(p.Power, Is.EqualTo(1.0).Within(1e-9));

        // Add a weaker period-3 ripple along y: the strongest stays, its share drops.
        for (int r = 0; r < 16; r++) for (int c = 0; c < 24; c++) grid[r, c] += 0.1 * Math.Sin(2 * Math.PI * r * 4 / 16.0);
        var mixed = InvarianceMetrics.Period(grid, stride: 4);
        Assert.That((mixed.PeriodY, mixed.PeriodX), Is.EqualTo((0.0, 32.0)));
        Assert.That(mixed.Power, Is.EqualTo(0.09 / (0.09 + 0.01)).Within(1e-9));
    }

    [Test]
    public void ClassMetricsEqualBruteForce()
    {
        var random = new Random(7);
        const int rows = 6, cols = 5, target = 3;
        var top1 = Enumerable.Range(0, rows * cols).Select(_ => (long)random.Next(0, 5)).ToArray();
        var probability = new double[rows, cols];
        for (int i = 0; i < rows * cols; i++) probability[i / cols, i % cols] = random.NextDouble();
        var m = InvarianceMetrics.Classes(probability, top1, target);

        int same = 0, pairs = 0;
        for (int i = 0; i < top1.Length; i++) for (int j = i + 1; j < top1.Length; j++) { pairs++; if (top1[i] == top1[j]) same++; }
        int sameNeighbours = 0, neighbours = 0;
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++)
        {
            if (c + 1 < cols) { neighbours++; if (top1[r * cols + c] == top1[r * cols + c + 1]) sameNeighbours++; }
            if (r + 1 < rows) { neighbours++; if (top1[r * cols + c] == top1[(r + 1) * cols + c]) sameNeighbours++; }
        }
        Assert.That(m.Consistency, Is.EqualTo(same / (double)pairs).Within(1e-15));
        Assert.That(m.LocalConsistency, Is.EqualTo(sameNeighbours / (double)neighbours).Within(1e-15));
        Assert.That(m.Accuracy, Is.EqualTo(top1.Count(t => t == target) / 30.0));
        Assert.That(m.Max, Is.EqualTo(probability.Cast<double>().Max()));
        Assert.That(m.Min, Is.EqualTo(probability.Cast<double>().Min()));
    }

    [Test]
    public void FlipMetricsEqualBruteForceOverAllPairsOneStepApart()
    {
        var random = new Random(11);
        const int rows = 7, cols = 4, target = 2;
        var top1 = Enumerable.Range(0, rows * cols).Select(_ => (long)random.Next(0, 4)).ToArray();
        var inTop5 = Enumerable.Range(0, rows * cols).Select(_ => random.Next(0, 3) > 0).ToArray();
        var probability = new double[rows, cols];
        for (int i = 0; i < rows * cols; i++) probability[i / cols, i % cols] = random.NextDouble();
        var m = InvarianceMetrics.Classes(probability, top1, target, inTop5);

        // Every unordered pair of positions whose shifts differ by one grid step (|dy| + |dx| = 1).
        int pairs = 0, flips = 0, jagged = 0;
        double change = 0;
        for (int a = 0; a < rows * cols; a++)
            for (int b = a + 1; b < rows * cols; b++)
            {
                if (Math.Abs(a / cols - b / cols) + Math.Abs(a % cols - b % cols) != 1) continue;
                pairs++;
                if (top1[a] != top1[b]) flips++;
                if (inTop5[a] != inTop5[b]) jagged++;
                change += Math.Abs(probability[a / cols, a % cols] - probability[b / cols, b % cols]);
            }
        Assert.That(pairs, Is.EqualTo(rows * (cols - 1) + (rows - 1) * cols));
        Assert.That(m.FlipRate, Is.EqualTo(flips / (double)pairs).Within(1e-15));
        Assert.That(m.Top5Jaggedness, Is.EqualTo(jagged / (double)pairs).Within(1e-15));
        Assert.That(m.MeanAbsoluteChange, Is.EqualTo(change / pairs).Within(1e-15));
        Assert.That(m.WorstCaseCorrect, Is.EqualTo(0));
        Assert.That(InvarianceMetrics.Classes(probability, [.. top1.Select(_ => (long)target)], target).WorstCaseCorrect, Is.EqualTo(1));
        Assert.That(double.IsNaN(InvarianceMetrics.Classes(probability, top1, target).Top5Jaggedness), "no top-5 given: undefined");
    }

    [Test]
    public void PeriodAlongBothAxesOfADiagonalWave()
    {
        // cos(2π (y/4 + x/6)) on a 12x12 grid, step 2 px: frequency (3, 2) -> periods 4·2 = 8 px along y, 6·2 = 12 px along x.
        var grid = new double[12, 12];
        for (int r = 0; r < 12; r++) for (int c = 0; c < 12; c++) grid[r, c] = Math.Cos(2 * Math.PI * (r / 4.0 + c / 6.0));
        var p = InvarianceMetrics.Period(grid, stride: 2);
        Assert.That((p.PeriodY, p.PeriodX), Is.EqualTo((8.0, 12.0)));
        Assert.That(p.Power, Is.EqualTo(1.0).Within(1e-9));
    }

    [Test]
    public void PeriodOfAFlatGridIsNone()
    {
        var p = InvarianceMetrics.Period(new double[,] { { 0.7, 0.7 }, { 0.7, 0.7 } }, stride: 16);
        Assert.That(p, Is.EqualTo(new Periodicity(0, 0, 0)));
    }

    [Test]
    public void ClassMetricsOnAHandComputedGrid()
    {
        // top-1 [[949, 949], [3, 949]]: 3 of 4 on target; same-class pairs 3 of 6; neighbour pairs
        // (right: 949-949 same, 3-949 not; down: 949-3 not, 949-949 same) 2 of 4.
        var m = InvarianceMetrics.Classes(new double[,] { { 0.9, 0.8 }, { 0.1, 0.6 } }, [949, 949, 3, 949], 949);
        Assert.That(m.Accuracy, Is.EqualTo(0.75));
        Assert.That(m.Consistency, Is.EqualTo(0.5));
        Assert.That(m.LocalConsistency, Is.EqualTo(0.5));
        Assert.That(m.Mean, Is.EqualTo(0.6).Within(1e-15));
        Assert.That((m.Min, m.Max), Is.EqualTo((0.1, 0.9)));
        // |0.9-0.8| + |0.9-0.1| + |0.8-0.6| + |0.1-0.6| = 1.6 over 4 neighbour pairs; 2 of 4 flip; not top-1 everywhere.
        Assert.That(m.MeanAbsoluteChange, Is.EqualTo(0.4).Within(1e-15));
        Assert.That((m.FlipRate, m.WorstCaseCorrect), Is.EqualTo((0.5, 0.0)));
        // target in the top 5 at [[yes, yes], [no, yes]]: it leaves it going down from (0,0) and enters it going right from (1,0).
        var withTop5 = InvarianceMetrics.Classes(new double[,] { { 0.9, 0.8 }, { 0.1, 0.6 } }, [949, 949, 3, 949], 949, [true, true, false, true]);
        Assert.That(withTop5.Top5Jaggedness, Is.EqualTo(0.5));
    }

    [TestCase(0.25, TestName = "PeriodsInPixelsOnASubpixelGrid")]
    [TestCase(null, TestName = "PeriodsInPixelsOnAnOlderRunWithoutOffsetPx")]
    public void PeriodsAreAlsoGivenInPixels(double? offsetPx)
    {
        using var dir = TestPaths.NewTempDir();
        const int rows = 16, stride = 2;
        var run = FeatureRunFolders.Write(dir, "alexnet", "torchvision", rows: rows, stride: stride, seed: 5, anchors: ["c"]);
        // A class grid with 4 grid steps per cycle along x and none along y: period_x = stride * 16 / 4 = 8 offsets.
        var csv = new System.Text.StringBuilder("y,x,val\n");
        for (int iy = 0; iy < rows; iy++)
            for (int ix = 0; ix < rows; ix++)
                csv.Append(CultureInfo.InvariantCulture, $"{iy * stride},{ix * stride},{0.5 + 0.4 * Math.Cos(2 * Math.PI * ix / 4):R}\n");
        File.WriteAllText(Path.Combine(run.Directory, "class.csv"), csv.ToString());
        var runJson = JsonNode.Parse(File.ReadAllText(Path.Combine(run.Directory, "run.json")))!;
        if (offsetPx is { } px) runJson["grid"]!["offset_px"] = px;
        File.WriteAllText(Path.Combine(run.Directory, "run.json"), runJson.ToJsonString());

        var summary = RunSummary.Write(run.Directory, RunSummary.ReadGeometry(run.Directory));
        double unit = offsetPx ?? 1.0;
        var cls = summary.Layers["class"];
        Assert.That(cls["period_x"], Is.EqualTo(8.0), "offset units, as before");
        Assert.That(cls["period_y"], Is.EqualTo(0.0));
        Assert.That(cls["period_x_px"], Is.EqualTo(8.0 * unit));
        Assert.That(cls["period_y_px"], Is.EqualTo(0.0));
        var pool = summary.Layers["pool"];
        Assert.That(pool["period_y_px"], Is.EqualTo(pool["period_y"] * unit));
        Assert.That(pool["period_x_px"], Is.EqualTo(pool["period_x"] * unit));
        Assert.That(summary.OffsetPx, Is.EqualTo(unit));
        Assert.That(summary.NeighbourPx, Is.EqualTo(stride * unit));
        var lines = File.ReadAllLines(Path.Combine(run.Directory, "summary.csv"));
        Assert.That(lines, Does.Contain($"class,period_x_px,{(8.0 * unit).ToString("R", CultureInfo.InvariantCulture)}"));
        Assert.That(lines, Does.Contain("class,period_x,8"));
    }

    [Test]
    public void SummaryOfARunFolderEqualsBruteForce()
    {
        using var dir = TestPaths.NewTempDir();
        var run = FeatureRunFolders.Write(dir, "alexnet", "torchvision", rows: 7, stride: 8, seed: 3, anchors: ["tl", "c"]);
        var summary = RunSummary.Write(run.Directory, RunSummary.ReadGeometry(run.Directory)).Layers;
        var pool = summary["pool"];
        Assert.That(pool["global"], Is.EqualTo(run.Global()).Within(1e-12));

        double localSum = 0; int neighbours = 0;
        for (int r = 0; r < run.Rows; r++) for (int c = 0; c < run.Cols; c++)
        {
            if (c + 1 < run.Cols) { localSum += run.Cos(r * run.Cols + c, r * run.Cols + c + 1); neighbours++; }
            if (r + 1 < run.Rows) { localSum += run.Cos(r * run.Cols + c, (r + 1) * run.Cols + c); neighbours++; }
        }
        Assert.That(pool["local"], Is.EqualTo(localSum / neighbours).Within(1e-12));

        var tl = run.AnchorGrid(0, 0).Cast<double>().ToArray();
        double mean = tl.Average();
        Assert.That(pool.Anchors!["tl"]["mean"], Is.EqualTo(mean).Within(1e-12));
        Assert.That(pool.Anchors!["tl"]["min"], Is.EqualTo(tl.Min()).Within(1e-12));
        Assert.That(pool.Anchors!["tl"]["std"], Is.EqualTo(Math.Sqrt(tl.Sum(v => (v - mean) * (v - mean)) / tl.Length)).Within(1e-12));

        var cls = summary["class"];
        int same = 0, pairs = 0;
        for (int i = 0; i < run.N; i++) for (int j = i + 1; j < run.N; j++) { pairs++; if (run.Top1[i] == run.Top1[j]) same++; }
        Assert.That(cls["consistency"], Is.EqualTo(same / (double)pairs).Within(1e-15));
        Assert.That(cls["accuracy"], Is.EqualTo(run.Top1.Count(t => t == FeatureRunFolders.TargetClass) / (double)run.N));
        Assert.That(cls["max"], Is.EqualTo(run.Probability.Cast<double>().Max()));

        // summary.csv carries the same numbers as summary.json, one tidy row each.
        var csv = File.ReadAllLines(Path.Combine(run.Directory, "summary.csv"));
        Assert.That(csv[0], Is.EqualTo("layer,metric,value"));
        Assert.That(csv, Does.Contain("pool,global," + pool["global"]!.Value.ToString("R", CultureInfo.InvariantCulture)));
        Assert.That(csv.Skip(1).Select(l => l.Split(',')[1]), Does.Contain("tl.std").And.Contain("local_consistency").And.Contain("period_power"));
    }

    [Test]
    public void PeriodIsTheCentreAnchorsEvenWhenTheRunHasNoCentreAnchor()
    {
        using var dir = TestPaths.NewTempDir();
        var run = FeatureRunFolders.Write(dir, "alexnet", "torchvision", rows: 9, stride: 4, seed: 5, anchors: ["tl"]);
        var pool = RunSummary.Write(run.Directory, RunSummary.ReadGeometry(run.Directory)).Layers["pool"];
        var expected = InvarianceMetrics.Period(run.AnchorGrid(4, 4), 4);
        Assert.That(pool["period_y"], Is.EqualTo(expected.PeriodY));
        Assert.That(pool["period_x"], Is.EqualTo(expected.PeriodX));
        Assert.That(pool["period_power"], Is.EqualTo(expected.Power).Within(1e-9));
        Assert.That(expected.Power, Is.GreaterThan(0), "random features do have a strongest frequency");
    }

    [Test]
    public void AOnePositionRunHasUndefinedPairMetricsWrittenAsNull()
    {
        using var dir = TestPaths.NewTempDir();
        var run = FeatureRunFolders.Write(dir, "alexnet", "torchvision", rows: 1, stride: 200, seed: 1);
        RunSummary.Write(run.Directory, RunSummary.ReadGeometry(run.Directory));
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(run.Directory, "summary.json")))!["layers"]!;
        Assert.That(summary["pool"]!.AsObject().ContainsKey("global") && summary["pool"]!["global"] is null);
        Assert.That(summary["pool"]!.AsObject().ContainsKey("local") && summary["pool"]!["local"] is null);
        Assert.That(summary["class"]!["consistency"], Is.Null);
        Assert.That(summary["class"]!["accuracy"]!.GetValue<double>(), Is.EqualTo(run.Top1[0] == FeatureRunFolders.TargetClass ? 1.0 : 0.0));
        Assert.That(File.ReadAllLines(Path.Combine(run.Directory, "summary.csv")), Does.Contain("pool,global,NaN"));
    }

    [TestCase("grid", "grid")]
    [TestCase("layers", "layers")]
    public void AMalformedRunJsonNamesTheField(string removed, string field)
    {
        using var dir = TestPaths.NewTempDir();
        var run = FeatureRunFolders.Write(dir, "alexnet", "torchvision", rows: 3, stride: 8, seed: 1);
        string path = Path.Combine(run.Directory, "run.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        json.Remove(removed);
        File.WriteAllText(path, json.ToJsonString());
        var error = Assert.Catch<ShiftBenchException>(() => RunSummary.ReadGeometry(run.Directory))!;
        Assert.That(error.Message, Does.Contain(path).And.Contain($"field {field} ").And.Contain("rerun"));
    }

    /// <summary>Every case of Fixtures/metrics/metrics.json, made by NumPy (tools/fixtures/make_metrics_fixtures.py).</summary>
    static IEnumerable<TestCaseData> NumPyCases()
    {
        var cases = JsonNode.Parse(File.ReadAllText(TestPaths.Fixture("metrics", "metrics.json")))!["cases"]!.AsArray();
        return cases.Select(c => new TestCaseData(c!).SetArgDisplayNames($"{c!["rows"]}x{c["cols"]}"));
    }

    [TestCaseSource(nameof(NumPyCases))]
    public void MetricsEqualNumPysOnRandomFeatures(JsonNode c)
    {
        int rows = c["rows"]!.GetValue<int>(), cols = c["cols"]!.GetValue<int>(), dim = c["dim"]!.GetValue<int>(), stride = c["stride"]!.GetValue<int>();
        var features = c["features"]!.AsArray().Select(v => (float)v!.GetValue<double>()).ToArray();
        var acc = new InvarianceMetrics.FeatureAccumulator(rows, cols, dim);
        acc.Add(features);
        Assert.That(acc.Global, Is.EqualTo(c["global"]!.GetValue<double>()).Within(1e-12));
        Assert.That(acc.Local, Is.EqualTo(c["local"]!.GetValue<double>()).Within(1e-12));

        // The centre-anchor grid, then its period as NumPy's FFT found it.
        int anchor = rows / 2 * cols + cols / 2;
        double Norm(int i) => Math.Sqrt(Enumerable.Range(0, dim).Sum(k => (double)features[i * dim + k] * features[i * dim + k]));
        var centre = new double[rows, cols];
        for (int i = 0; i < rows * cols; i++)
            centre[i / cols, i % cols] = Enumerable.Range(0, dim).Sum(k => (double)features[i * dim + k] * features[anchor * dim + k]) / (Norm(i) * Norm(anchor));
        var p = InvarianceMetrics.Period(centre, stride);
        var expected = c["centre_period"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        Assert.That(p.PeriodY, Is.EqualTo(expected[0]).Within(1e-9));
        Assert.That(p.PeriodX, Is.EqualTo(expected[1]).Within(1e-9));
        Assert.That(p.Power, Is.EqualTo(expected[2]).Within(1e-9));

        var top1 = c["top1"]!.AsArray().Select(v => (long)v!.GetValue<int>()).ToArray();
        var m = InvarianceMetrics.Classes(new double[rows, cols], top1, 0);
        Assert.That(m.Consistency, Is.EqualTo(c["consistency"]!.GetValue<double>()).Within(1e-12));
        Assert.That(m.LocalConsistency, Is.EqualTo(c["local_consistency"]!.GetValue<double>()).Within(1e-12));
    }
}
