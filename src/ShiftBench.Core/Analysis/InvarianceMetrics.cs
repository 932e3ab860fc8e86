namespace ShiftBench.Analysis;

/// <summary>Mean, minimum and standard deviation (population) of one grid.</summary>
public sealed record GridStats(double Mean, double Min, double Std);

/// <summary>Strongest non-zero frequency of a grid: period in pixels per axis (0 = none along it) and its share of the non-DC power.</summary>
public sealed record Periodicity(double PeriodY, double PeriodX, double Power);

/// <summary>
/// Every invariance metric, defined once here (docs/metrics.md documents the same formulas).
/// f̂ is the L2-normalised feature at each of the N = rows x cols grid positions (y-major).
/// </summary>
public static class InvarianceMetrics
{
    public static GridStats Stats(double[,] grid)
    {
        var values = grid.Cast<double>().ToArray();
        double mean = values.Average();
        return new GridStats(mean, values.Min(), Math.Sqrt(values.Average(v => (v - mean) * (v - mean))));
    }

    /// <summary>
    /// Streams feature rows (y-major, any chunking) once and returns
    /// local = mean cosine over neighbour pairs one step apart (right and down), and
    /// global = mean cosine over all N(N-1)/2 distinct pairs = (|Σf̂|² − N) / (N(N−1)), exact.
    /// </summary>
    public sealed class FeatureAccumulator(int rows, int cols, int dim)
    {
        readonly double[] sum = new double[dim];
        double[]? previousRow;              // f̂ of the grid row above, for the "down" neighbours
        readonly double[] currentRow = new double[cols * dim];
        int seen;
        double localSum;
        long localPairs;

        public void Add(ReadOnlySpan<float> features)
        {
            for (int offset = 0; offset < features.Length; offset += dim)
            {
                int col = seen % cols;
                var unit = currentRow.AsSpan(col * dim, dim);
                double norm = 0;
                for (int k = 0; k < dim; k++) { double v = features[offset + k]; unit[k] = v; norm += v * v; }
                norm = Math.Sqrt(norm);
                double scale = norm > 1e-12 ? 1 / norm : 0; // a zero vector stays zero, as in F.normalize
                for (int k = 0; k < dim; k++) { unit[k] *= scale; sum[k] += unit[k]; }
                if (col > 0) { localSum += Dot(unit, currentRow.AsSpan((col - 1) * dim, dim)); localPairs++; }
                if (previousRow is not null) { localSum += Dot(unit, previousRow.AsSpan(col * dim, dim)); localPairs++; }
                seen++;
                if (col == cols - 1)
                {
                    previousRow ??= new double[cols * dim];
                    currentRow.CopyTo(previousRow, 0);
                }
            }
        }

        public double Local => localPairs == 0 ? double.NaN : localSum / localPairs;

        public double Global
        {
            get
            {
                if (seen != rows * cols) throw new InvalidOperationException($"saw {seen} of {rows * cols} positions");
                double n = seen, squared = 0;
                foreach (var s in sum) squared += s * s;
                return (squared - n) / (n * (n - 1));
            }
        }

        static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
        {
            double d = 0;
            for (int k = 0; k < a.Length; k++) d += a[k] * b[k];
            return d;
        }
    }

    /// <summary>
    /// Strongest non-zero frequency of the 2-D DFT of the mean-removed grid. Frequencies are signed
    /// (k > n/2 means k − n); the period along an axis is stride · n / |k| pixels, 0 where k = 0 (no period
    /// along that axis). Power is the share of the non-DC power in that frequency and its mirror −k,
    /// which a real grid always has with equal power.
    /// </summary>
    public static Periodicity Period(double[,] grid, int stride)
    {
        int h = grid.GetLength(0), w = grid.GetLength(1);
        double mean = grid.Cast<double>().Average();
        // Separable direct DFT on flat arrays with exact twiddle tables (index k·n mod n, stepped without
        // a modulo): O(h·w·(h+w)) multiply-adds, milliseconds at 133x133, so no FFT library is needed.
        var (cosX, sinX) = Twiddles(w);
        var (cosY, sinY) = Twiddles(h);
        // Row transforms, stored transposed ([kx, r]) so the column transforms read contiguous memory.
        var rowRe = new double[w * h];
        var rowIm = new double[w * h];
        var values = new double[w];
        for (int r = 0; r < h; r++)
        {
            for (int c = 0; c < w; c++) values[c] = grid[r, c] - mean;
            for (int kx = 0; kx < w; kx++)
            {
                double re = 0, im = 0;
                for (int c = 0, m = 0; c < w; c++, m = m + kx >= w ? m + kx - w : m + kx)
                {
                    re += values[c] * cosX[m];
                    im += values[c] * sinX[m];
                }
                rowRe[kx * h + r] = re;
                rowIm[kx * h + r] = im;
            }
        }
        var power = new double[h, w];
        double total = 0;
        for (int kx = 0; kx < w; kx++)
            for (int ky = 0; ky < h; ky++)
            {
                double re = 0, im = 0;
                for (int r = 0, m = 0; r < h; r++, m = m + ky >= h ? m + ky - h : m + ky)
                {
                    double a = rowRe[kx * h + r], b = rowIm[kx * h + r];
                    re += a * cosY[m] - b * sinY[m];
                    im += a * sinY[m] + b * cosY[m];
                }
                power[ky, kx] = re * re + im * im;
                if (ky != 0 || kx != 0) total += power[ky, kx];
            }
        if (total <= 1e-300) return new Periodicity(0, 0, 0);
        (int bestY, int bestX) = (0, 0);
        for (int ky = 0; ky < h; ky++)
            for (int kx = 0; kx < w; kx++)
                if ((ky != 0 || kx != 0) && power[ky, kx] > power[bestY, bestX] + 1e-12 * total) (bestY, bestX) = (ky, kx);
        int mirrorY = (h - bestY) % h, mirrorX = (w - bestX) % w;
        double share = (power[bestY, bestX] + ((mirrorY, mirrorX) != (bestY, bestX) ? power[mirrorY, mirrorX] : 0)) / total;
        return new Periodicity(PeriodOf(bestY, h, stride), PeriodOf(bestX, w, stride), share);
    }

    /// <summary>Real and imaginary parts of e^(−2πi·m/n) for m = 0..n−1.</summary>
    static (double[] Cos, double[] Sin) Twiddles(int n) =>
        ([.. Enumerable.Range(0, n).Select(m => Math.Cos(2 * Math.PI * m / n))],
         [.. Enumerable.Range(0, n).Select(m => -Math.Sin(2 * Math.PI * m / n))]);

    static double PeriodOf(int k, int n, int stride)
    {
        int signed = k > n / 2 ? k - n : k;
        return signed == 0 ? 0 : stride * (double)n / Math.Abs(signed);
    }

    /// <summary>
    /// Class-layer metrics from the target probability grid, the top-1 class per position (y-major) and, when
    /// known, whether the target is among the top 5 at each position (else Top5Jaggedness is NaN).
    /// Neighbour pairs are the grid's right and down neighbours, each pair once.
    /// </summary>
    public static ClassMetrics Classes(double[,] probability, IReadOnlyList<long> top1, int targetClass, IReadOnlyList<bool>? targetInTop5 = null)
    {
        int rows = probability.GetLength(0), cols = probability.GetLength(1);
        long n = top1.Count;
        var stats = Stats(probability);
        double accuracy = top1.Count(c => c == targetClass) / (double)n;
        // Zhang's consistency over all distinct pairs, exact from the histogram: Σ c_k(c_k − 1) / (N(N − 1)).
        double samePairs = top1.GroupBy(c => c).Sum(g => (double)g.Count() * (g.Count() - 1));
        double consistency = n > 1 ? samePairs / ((double)n * (n - 1)) : double.NaN;
        long neighbourPairs = 0, sameNeighbours = 0, top5Changes = 0;
        double absoluteChange = 0;
        void Pair(int a, int b, double pa, double pb)
        {
            neighbourPairs++;
            if (top1[a] == top1[b]) sameNeighbours++;
            if (targetInTop5 is not null && targetInTop5[a] != targetInTop5[b]) top5Changes++;
            absoluteChange += Math.Abs(pa - pb);
        }
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
            {
                int here = r * cols + c;
                if (c + 1 < cols) Pair(here, here + 1, probability[r, c], probability[r, c + 1]);
                if (r + 1 < rows) Pair(here, here + cols, probability[r, c], probability[r + 1, c]);
            }
        double PerPair(double count) => neighbourPairs == 0 ? double.NaN : count / neighbourPairs;
        double localConsistency = PerPair(sameNeighbours);
        return new ClassMetrics(stats.Mean, stats.Min, probability.Cast<double>().Max(), accuracy, consistency, localConsistency)
        {
            FlipRate = 1 - localConsistency,
            Top5Jaggedness = targetInTop5 is null ? double.NaN : PerPair(top5Changes),
            MeanAbsoluteChange = PerPair(absoluteChange),
            WorstCaseCorrect = top1.All(c => c == targetClass) ? 1 : 0,
        };
    }
}

public sealed record ClassMetrics(double Mean, double Min, double Max, double Accuracy, double Consistency, double LocalConsistency)
{
    /// <summary>Share of neighbour pairs whose top-1 differs (Azulay and Weiss's P(top-1 change)).</summary>
    public double FlipRate { get; init; } = double.NaN;
    /// <summary>Share of neighbour pairs where the target enters or leaves the top 5 (Azulay and Weiss's jaggedness).</summary>
    public double Top5Jaggedness { get; init; } = double.NaN;
    /// <summary>Mean absolute change of the target probability between neighbours.</summary>
    public double MeanAbsoluteChange { get; init; } = double.NaN;
    /// <summary>1 when the target is top-1 at every position, else 0 (worst-case accuracy over the shifts).</summary>
    public double WorstCaseCorrect { get; init; } = double.NaN;
}
