using System.Text.Json.Nodes;
using ShiftBench.Analysis;
using ShiftBench.Datasets;
using ShiftBench.Models;
using ShiftBench.Output;
using ShiftBench.Runs;

namespace ShiftBench.Tests;

/// <summary>
/// Grids by default, features on request: every grid and metric is computed while the run streams, equals what the
/// stored features give, and summary.json is the same byte for byte with --features fp32, fp16 or none.
/// </summary>
public class StreamingTests
{
    static RunRequest Request(string outRoot, FeatureStorage features, int stride = 31, int batch = 4, IReadOnlyList<string>? anchors = null) => new()
    {
        Model = ModelRegistry.Find("alexnet", ModelVariant.Torchvision),
        Dataset = DatasetCatalog.Resolve("berry"),
        DataDir = TestPaths.DataDir,
        Weights = WeightsSource.Deterministic(),
        Layers = ["pool", "fc7", "fc", "class"],
        AnchorSpecs = anchors ?? Anchors.Named,
        Stride = stride,
        BatchSize = batch,
        OutRoot = outRoot,
        Features = features,
    };

    [Test]
    public void StreamedGridsAndMetricsMatchTheStoredFeaturePath()
    {
        using var dir = TestPaths.NewTempDir();
        // Anchors tl and 31:62 only, so the centre (for the period) is streamed as a hidden anchor; batch 4 of 25 positions.
        var result = ExperimentRunner.Run(Request(dir, FeatureStorage.Fp32, anchors: ["tl", "31:62"]));
        string run = result.RunDirectory;
        var anchors = Anchors.Parse(["tl", "31:62"], [0, 31, 62, 93, 124]);
        foreach (var layer in new[] { "pool", "fc7" })
        {
            string features = Path.Combine(run, RunLayout.FeaturesFile(layer));
            var stored = CosineGrids.Compute(features, 5, 5, anchors);
            for (int a = 0; a < anchors.Count; a++)
            {
                var streamed = GridCsv.Read(Path.Combine(run, RunLayout.Csv(RunLayout.CosineStem(layer, anchors[a].Name)))).Grid;
                Assert.That(MaxDifference(streamed, stored[a]), Is.LessThan(1e-12), $"{layer} {anchors[a].Name}");
                Assert.That(streamed[anchors[a].Row, anchors[a].Col], Is.EqualTo(1.0).Within(1e-12), "the anchor's own batch was computed exactly as the loop computes it");
            }
        }
        var (probability, top1, topK) = ClassGrid.Compute(Path.Combine(run, RunLayout.FeaturesFile(ModelEntry.LogitsLayer)), 5, 5, DatasetCatalog.Resolve("berry").TargetClass!.Value);
        Assert.That(MaxDifference(GridCsv.Read(Path.Combine(run, "class.csv")).Grid, probability), Is.LessThan(1e-12));
        Assert.That(Npy.ReadInt64(Path.Combine(run, RunLayout.Top1)).Data, Is.EqualTo(top1));
        Assert.That(Npy.ReadInt64(Path.Combine(run, RunLayout.Top5)).Data, Is.EqualTo(topK));

        // summary.json recomputed from the stored features (the path for folders made before streaming) agrees.
        using var copy = TestPaths.NewTempDir();
        foreach (var file in Directory.GetFiles(run)) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        var fromFiles = RunSummary.Write(copy, RunSummary.ReadGeometry(copy));
        var streamedSummary = SummaryRecord.Read(run)!;
        var expected = RunSummary.Rows(fromFiles).ToList();
        var actual = RunSummary.Rows(streamedSummary).ToList();
        Assert.That(actual.Select(r => (r.Layer, r.Metric)), Is.EqualTo(expected.Select(r => (r.Layer, r.Metric))));
        Assert.That(actual.Where(r => r.Metric is "global" or "local").Count(), Is.EqualTo(6), "global and local of pool, fc7 and fc");
        foreach (var (e, a) in expected.Zip(actual))
            Assert.That(a.Value, double.IsNaN(e.Value) ? Is.NaN : Is.EqualTo(e.Value).Within(1e-12 * Math.Max(1, Math.Abs(e.Value))), $"{e.Layer} {e.Metric}");
    }

    [Test]
    public void SummaryIsTheSameByteForByteWithFp32Fp16OrNoFeatures()
    {
        using var dir = TestPaths.NewTempDir();
        var runs = new[] { FeatureStorage.None, FeatureStorage.Fp32, FeatureStorage.Fp16 }
            .ToDictionary(f => f, f => ExperimentRunner.Run(Request(Path.Combine(dir, f.Name()), f)).RunDirectory);
        string none = runs[FeatureStorage.None];
        Assert.That(Directory.GetFiles(none, "features-*"), Is.Empty, "no feature matrices without --features");
        Assert.That(Directory.Exists(Path.Combine(none, RunLayout.PartialFolder)), Is.False);
        var results = Directory.GetFiles(none).Select(Path.GetFileName).Where(f => f!.EndsWith(".csv") || f.EndsWith(".npy") || f == RunLayout.SummaryJson).ToList();
        Assert.That(results, Does.Contain(RunLayout.SummaryJson).And.Contain("cos-pool-c.csv").And.Contain("class.csv"));
        foreach (var storage in new[] { FeatureStorage.Fp32, FeatureStorage.Fp16 })
            foreach (var file in results)
                Assert.That(File.ReadAllBytes(Path.Combine(runs[storage], file!)), Is.EqualTo(File.ReadAllBytes(Path.Combine(none, file!))), $"{file} with --features {storage.Name()}");

        // fp16 = the fp32 values rounded to float16, in a '<f2' .npy of the same shape.
        foreach (var layer in new[] { "pool", "fc7", "fc" })
        {
            var (full, shape) = Npy.ReadFloat32(Path.Combine(runs[FeatureStorage.Fp32], RunLayout.FeaturesFile(layer)));
            string halfPath = Path.Combine(runs[FeatureStorage.Fp16], RunLayout.FeaturesFile(layer));
            using (var stream = File.OpenRead(halfPath))
            {
                var (descr, halfShape, header) = NpyRowFile.ReadHeader(stream, halfPath);
                Assert.That((descr, halfShape), Is.EqualTo(("<f2", shape)), layer);
                Assert.That(stream.Length, Is.EqualTo(header + shape[0] * shape[1] * 2), layer);
            }
            using var half = NpyRowFile.OpenRead(halfPath);
            var values = new float[full.Length];
            half.ReadRows(0, values);
            Assert.That(values, Is.EqualTo(full.Select(v => (float)(Half)v).ToArray()), layer);
            Assert.That(values.Count(v => v != 0), Is.GreaterThan(values.Length / 10), $"{layer} is not all zeros");
        }
        long Size(string run) => Directory.GetFiles(run).Sum(f => new FileInfo(f).Length);
        TestContext.Out.WriteLine($"run folder bytes: none {Size(none)}, fp32 {Size(runs[FeatureStorage.Fp32])}, fp16 {Size(runs[FeatureStorage.Fp16])}");
        Assert.That(Size(runs[FeatureStorage.Fp16]) - Size(none), Is.LessThan((Size(runs[FeatureStorage.Fp32]) - Size(none)) / 2 + 4096));
    }

    [Test]
    public void HeldStateDoesNotGrowWithThePositions()
    {
        // 9 positions (stride 62) against 81 (stride 15): what stays in memory between batches is the anchors' rows and
        // one running sum per layer, nothing per position (those results go to the work folder).
        using var dir = TestPaths.NewTempDir();
        var coarse = ExperimentRunner.Run(Request(Path.Combine(dir, "coarse"), FeatureStorage.None, stride: 62));
        var fine = ExperimentRunner.Run(Request(Path.Combine(dir, "fine"), FeatureStorage.None, stride: 15));
        Assert.That((coarse.Positions, fine.Positions), Is.EqualTo((9, 81)));
        // pool (9216), fc7 (4096) and fc (1000): 5 anchor rows + the running sum + 2 counters each.
        long expected = (5 * 9216 + 9216 + 2) + (5 * 4096 + 4096 + 2) + (5 * 1000 + 1000 + 2);
        TestContext.Out.WriteLine($"held values: {coarse.HeldValues} at 9 positions, {fine.HeldValues} at 81");
        Assert.That(coarse.HeldValues, Is.EqualTo(expected));
        Assert.That(fine.HeldValues, Is.EqualTo(expected));
    }

    [Test]
    public void ResumingWithOtherFeatureStorageStartsOverAndStaysWhole()
    {
        using var dir = TestPaths.NewTempDir();
        using var reference = TestPaths.NewTempDir();
        var whole = ExperimentRunner.Run(Request(reference, FeatureStorage.Fp32));

        using var cancel = new CancellationTokenSource();
        var stopAfterTwo = new SyncProgress(u => { if (u.Done >= 8) cancel.Cancel(); });
        Assert.Throws<OperationCanceledException>(() => ExperimentRunner.Run(Request(dir, FeatureStorage.None), stopAfterTwo, cancel.Token));
        // The first 8 rows were never stored, so --features fp32 cannot continue that work: it starts over.
        var resumed = ExperimentRunner.Run(Request(dir, FeatureStorage.Fp32) with { Resume = true });
        Assert.That(resumed.PositionsComputed, Is.EqualTo(25));
        foreach (var file in Directory.GetFiles(whole.RunDirectory).Select(Path.GetFileName).Where(f => f!.EndsWith(".csv") || f.EndsWith(".npy")))
            Assert.That(File.ReadAllBytes(Path.Combine(resumed.RunDirectory, file!)), Is.EqualTo(File.ReadAllBytes(Path.Combine(whole.RunDirectory, file!))), file);
    }

    [Test]
    public void UnknownFeatureStorageIsOneClearLine()
    {
        using var dir = TestPaths.NewTempDir();
        var (code, _, stderr) = TestCli.Run("run", "--model", "alexnet", "--variant", "torchvision", "--dataset", "berry", "--weights", "deterministic",
            "--out", dir, "--features", "fp8");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr.Trim(), Is.EqualTo("error: --features 'fp8' is unknown: use fp32 or fp16 (or leave it out to store no feature matrices)"));
        Assert.That(Directory.EnumerateFileSystemEntries(dir), Is.Empty);
    }

    static double MaxDifference(double[,] a, double[,] b) =>
        a.Cast<double>().Zip(b.Cast<double>()).Max(p => Math.Abs(p.First - p.Second));

    sealed class SyncProgress(Action<ProgressUpdate> onReport) : IProgress<ProgressUpdate>
    {
        public void Report(ProgressUpdate value) => onReport(value);
    }
}
