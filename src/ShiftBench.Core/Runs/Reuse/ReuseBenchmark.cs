using ShiftBench.Datasets;
using ShiftBench.Models;
using static TorchSharp.torch;

namespace ShiftBench.Runs.Reuse;

/// <summary>Images/s of brute force and of reuse: the median of the rounds and the slowest and fastest round.</summary>
public sealed record ReuseBenchResult(string Model, string Variant, string Dataset, int Stride, int Images, int Rounds,
    IReadOnlyList<double> BruteImagesPerSecond, IReadOnlyList<double> ReuseImagesPerSecond, ReuseRecord Record, Precision Precision)
{
    public double BruteMedian => Median(BruteImagesPerSecond);
    public double ReuseMedian => Median(ReuseImagesPerSecond);
    public double Speedup => ReuseMedian / BruteMedian;

    static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}

/// <summary>
/// `bench`'s reuse measurement: the same end-to-end `run` (first <c>images</c> positions, synthetic weights, the
/// layers `run` would write, every named layer by default) with --reuse off and with the given mode (auto or on), alternating for a few rounds so that a change in the
/// machine's load or clock falls on both, and the cost model's share of multiply-adds skipped. With several precisions each
/// round measures every precision's pair in turn, so the ratios between precisions (bf16 with reuse against fp32 with
/// reuse, the default path) come from the same rounds.
/// </summary>
public static class ReuseBenchmark
{
    public const int DefaultRounds = 3;

    public static void CheckRounds(int rounds)
    {
        if (rounds < 1) throw new ShiftBenchException($"--rounds {rounds} is invalid: use 1 or more");
    }

    /// <summary>One result per precision, in the order given, from the same alternating rounds.</summary>
    public static IReadOnlyList<ReuseBenchResult> Run(ModelEntry entry, DatasetConfig dataset, string dataDir, int? stride, int batchSize, int images, Device device,
        IReadOnlyList<Precision> precisions, IProgress<ProgressUpdate>? progress = null, string mode = ReuseEngine.Auto, int rounds = DefaultRounds,
        IReadOnlyList<string>? layers = null)
    {
        CheckRounds(rounds);
        string outRoot = Directory.CreateTempSubdirectory("shiftbench-bench-").FullName;
        try
        {
            int folder = 0;
            // A folder per measurement: an output folder holds one precision, and a fresh folder means no run is skipped as done.
            RunResult Measure(string reuse, Precision precision) => ExperimentRunner.Run(new RunRequest
            {
                Model = entry, Dataset = dataset, DataDir = dataDir, Weights = WeightsSource.Deterministic(), Layers = layers ?? [],
                Stride = stride, BatchSize = batchSize, OutRoot = Path.Combine(outRoot, $"{precision.Name()}-{reuse}-{folder++}"), Device = device,
                MaxPositions = images, Reuse = reuse, Precision = precision,
            }, progress);
            var brute = precisions.Select(_ => new List<double>()).ToList();
            var reused = precisions.Select(_ => new List<double>()).ToList();
            var records = new ReuseRecord[precisions.Count];
            for (int round = 0; round < rounds; round++)
                for (int p = 0; p < precisions.Count; p++)
                {
                    brute[p].Add(Measure(ReuseEngine.OffMode, precisions[p]).ImagesPerSecond);
                    var result = Measure(mode, precisions[p]);
                    reused[p].Add(result.ImagesPerSecond);
                    records[p] = result.Reuse!;
                }
            return [.. precisions.Select((precision, p) => new ReuseBenchResult(entry.Model, entry.VariantName, dataset.Name, stride ?? dataset.Stride,
                images, rounds, brute[p], reused[p], records[p], precision))];
        }
        finally
        {
            Directory.Delete(outRoot, recursive: true);
        }
    }
}
