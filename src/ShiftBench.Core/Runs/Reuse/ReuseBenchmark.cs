using ShiftBench.Datasets;
using ShiftBench.Models;
using static TorchSharp.torch;

namespace ShiftBench.Runs.Reuse;

public sealed record ReuseBenchResult(string Model, string Variant, string Dataset, int Stride, int Images,
    double BruteImagesPerSecond, double ReuseImagesPerSecond, ReuseRecord Record)
{
    public double Speedup => ReuseImagesPerSecond / BruteImagesPerSecond;
}

/// <summary>
/// `bench`'s reuse measurement: the same end-to-end `run` (first <c>images</c> positions, synthetic weights) with
/// --reuse off and auto, one after the other, and the cost model's share of multiply-adds skipped.
/// </summary>
public static class ReuseBenchmark
{
    public static ReuseBenchResult Run(ModelEntry entry, DatasetConfig dataset, string dataDir, int? stride, int batchSize, int images, Device device, IProgress<ProgressUpdate>? progress = null)
    {
        string outRoot = Directory.CreateTempSubdirectory("shiftbench-bench-").FullName;
        try
        {
            RunResult Measure(string mode) => ExperimentRunner.Run(new RunRequest
            {
                Model = entry, Dataset = dataset, DataDir = dataDir, Weights = WeightsSource.Deterministic(), Layers = [ModelEntry.ClassLayer],
                Stride = stride, BatchSize = batchSize, OutRoot = Path.Combine(outRoot, mode), Device = device, MaxPositions = images, Reuse = mode,
            }, progress);
            var brute = Measure(ReuseEngine.OffMode);
            var reuse = Measure(ReuseEngine.Auto);
            return new ReuseBenchResult(entry.Model, entry.VariantName, dataset.Name, stride ?? dataset.Stride, images,
                brute.ImagesPerSecond, reuse.ImagesPerSecond, reuse.Reuse!);
        }
        finally
        {
            Directory.Delete(outRoot, recursive: true);
        }
    }
}
