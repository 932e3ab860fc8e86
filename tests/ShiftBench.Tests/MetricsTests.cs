using ShiftBench.Analysis;

namespace ShiftBench.Tests;

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
}
