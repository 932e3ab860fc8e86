using System.Diagnostics;
using System.Text.Json.Nodes;
using ShiftBench.Analysis;
using ShiftBench.Datasets;
using ShiftBench.Models;
using ShiftBench.Output;
using ShiftBench.Runs;
using static TorchSharp.torch;

namespace ShiftBench.Tests;

public class RunnerTests
{
    static RunRequest Request(string outRoot, int stride = 31, IReadOnlyList<string>? layers = null, int batch = 4) => new()
    {
        Model = ModelRegistry.Find("alexnet", ModelVariant.Torchvision),
        Dataset = DatasetCatalog.Resolve("berry"),
        DataDir = TestPaths.DataDir,
        Weights = WeightsSource.Deterministic(),
        Layers = layers ?? ["fc7", "class"],
        Stride = stride,
        BatchSize = batch,
        OutRoot = outRoot,
        Pictures = Report.RunHeatmaps.Instance,
    };

    [Test]
    [Category(TestTier.Fast)]
    public void AnchorsFollowTheStudysDefinition()
    {
        int[] offsets = [0, 10, 20, 30, 40];
        var anchors = Anchors.Parse(["tl,tr,c", "bl", "br", "20:30"], offsets);
        Assert.That(anchors.Select(a => (a.Name, a.Row, a.Col)), Is.EqualTo(new[]
        {
            ("tl", 0, 0), ("tr", 0, 4), ("c", 2, 2), ("bl", 4, 0), ("br", 4, 4), ("20_30", 2, 3),
        }));
        Assert.That(anchors[^1].Y, Is.EqualTo(20));
        Assert.That(Anchors.Parse(["c"], [0, 1, 2, 3]).Single().Row, Is.EqualTo(2), "c = n//2 for even n");
    }

    [TestCase("25:30", "outside the grid")]
    [TestCase("50:0", "outside the grid")]
    [TestCase("middle", "unknown anchor 'middle'")]
    [Category(TestTier.Fast)]
    public void BadAnchorsAreClearErrors(string spec, string expected)
    {
        var error = Assert.Throws<ShiftBenchException>(() => Anchors.Parse([spec], [0, 10, 20, 30, 40]))!;
        Assert.That(error.Message, Does.Contain(expected).And.Contain("--anchors"));
    }

    [Test]
    [Category(TestTier.Fast)]
    public void CosineGridsMatchABruteForceComputation()
    {
        using var dir = TestPaths.NewTempDir();
        const int rows = 3, cols = 4, dim = 7;
        var random = new Random(5);
        var features = Enumerable.Range(0, rows * cols * dim).Select(_ => (float)(random.NextDouble() - 0.3)).ToArray();
        string path = Path.Combine(dir, "f.npy");
        using (var file = NpyRowFile.OpenOrCreate(path, rows * cols, dim, keepExisting: false))
            file.WriteRows(0, features);
        var anchors = Anchors.Parse(["tl", "br", "10:20"], [0, 10, 20, 30]) .Where(a => a.Row < rows).ToList();

        var grids = CosineGrids.Compute(path, rows, cols, anchors);

        for (int a = 0; a < anchors.Count; a++)
            for (int i = 0; i < rows * cols; i++)
            {
                int j = anchors[a].Row * cols + anchors[a].Col;
                double dot = 0, ni = 0, nj = 0;
                for (int k = 0; k < dim; k++)
                {
                    double u = features[i * dim + k], v = features[j * dim + k];
                    dot += u * v; ni += u * u; nj += v * v;
                }
                Assert.That(grids[a][i / cols, i % cols], Is.EqualTo(dot / Math.Sqrt(ni * nj)).Within(1e-12));
            }
    }

    [Test]
    [Category(TestTier.Fast)]
    public void GridCsvReadsBackWhatWasWritten()
    {
        using var dir = TestPaths.NewTempDir();
        var grid = new double[,] { { 1, 0.25 }, { -0.5, 1.0 / 3 } };
        string path = Path.Combine(dir, "g.csv");
        GridCsv.Write(path, grid, [0, 8]);
        Assert.That(File.ReadLines(path).First(), Is.EqualTo("y,x,val"));
        Assert.That(File.ReadLines(path).ElementAt(2), Is.EqualTo("0,8,0.25"));
        var (back, offsets) = GridCsv.Read(path);
        Assert.That(back, Is.EqualTo(grid));
        Assert.That(offsets, Is.EqualTo(new[] { 0, 8 }));
    }

    [Test]
    [Category(TestTier.Fast)]
    public void RunWritesEveryDocumentedFile()
    {
        using var dir = TestPaths.NewTempDir();
        var result = ExperimentRunner.Run(Request(dir));
        string run = result.RunDirectory;
        Assert.That(result.Complete, Is.True);
        Assert.That(result.Positions, Is.EqualTo(25));
        foreach (var anchor in Anchors.Named)
        {
            Assert.That(File.Exists(Path.Combine(run, $"cos-fc7-{anchor}.csv")), anchor);
            Assert.That(new FileInfo(Path.Combine(run, $"cos-fc7-{anchor}.png")).Length, Is.GreaterThan(0), anchor);
        }
        var (tl, offsets) = GridCsv.Read(Path.Combine(run, "cos-fc7-tl.csv"));
        Assert.That(offsets, Is.EqualTo(new[] { 0, 31, 62, 93, 124 }));
        Assert.That(tl[0, 0], Is.EqualTo(1.0).Within(1e-9), "the anchor is identical to itself");
        Assert.That(File.Exists(Path.Combine(run, "class.csv")) && File.Exists(Path.Combine(run, "top1.npy")));
        Assert.That(Directory.GetFiles(run, "features-*"), Is.Empty, "no feature matrices without --features");
        Assert.That(Directory.Exists(Path.Combine(run, ".partial")), Is.False);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "run.json")))!;
        Assert.That(json["complete"]!.GetValue<bool>());
        Assert.That(json["dataset"]!["sources"]![0]!["sha256"]!.GetValue<string>(), Is.EqualTo("187b35acaf3c9b305ad74004fdbbaea311cc8587b745934008ae7619e36ad62f"));
        Assert.That(json["dataset"]!["config"]!["resize_method"]!.GetValue<string>(), Is.EqualTo("opencv"), "run.json records the resize method");
        Assert.That(json["grid"]!["rows"]!.GetValue<int>(), Is.EqualTo(5));
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "summary.json")))!["layers"]!;
        Assert.That(summary["fc7"]!["global"]!.GetValue<double>(), Is.InRange(-1.0, 1.0));
        Assert.That(summary["fc7"]!["anchors"]!["tl"]!["min"]!.GetValue<double>(), Is.EqualTo(tl.Cast<double>().Min()).Within(1e-12));
        Assert.That(summary["class"]!["consistency"]!.GetValue<double>(), Is.InRange(0.0, 1.0));
        Assert.That(File.ReadLines(Path.Combine(run, "summary.csv")).First(), Is.EqualTo("layer,metric,value"));
        Assert.That(summary["class"]!["flip_rate"]!.GetValue<double>(), Is.EqualTo(1 - summary["class"]!["local_consistency"]!.GetValue<double>()).Within(1e-15));
        Assert.That(summary["class"]!["top5_jaggedness"]!.GetValue<double>(), Is.InRange(0.0, 1.0));
    }

    [Test]
    [Category(TestTier.Fast)]
    public void Top5HoldsTheFiveLargestLogitsBestFirst()
    {
        using var dir = TestPaths.NewTempDir();
        var result = ExperimentRunner.Run(Request(dir, stride: 62, layers: ["fc", "class"]) with { Features = FeatureStorage.Fp32 });
        var top1 = Npy.ReadInt64(Path.Combine(result.RunDirectory, "top1.npy")).Data;
        var top5 = Npy.ReadInt64(Path.Combine(result.RunDirectory, "top5.npy"));
        Assert.That(top5.Shape, Is.EqualTo(new long[] { 9, 5 }));
        using var logits = NpyRowFile.OpenRead(Path.Combine(result.RunDirectory, "features-fc.npy"));
        var row = new float[1000];
        for (int i = 0; i < 9; i++)
        {
            logits.ReadRows(i, row);
            var expected = Enumerable.Range(0, 1000).OrderByDescending(c => row[c]).Take(5).Select(c => (long)c);
            Assert.That(top5.Data.Skip(i * 5).Take(5), Is.EqualTo(expected), $"position {i}");
            Assert.That(top5.Data[i * 5], Is.EqualTo(top1[i]));
        }
    }

    [Test]
    public void Fc6IsTakenBeforeTheInPlaceReluThatFollowsIt()
    {
        using var dir = TestPaths.NewTempDir();
        var result = ExperimentRunner.Run(Request(dir, stride: 62, layers: ["fc6", "fc6relu"]) with { Features = FeatureStorage.Fp32 });
        float[] Read(string layer)
        {
            using var file = NpyRowFile.OpenRead(Path.Combine(result.RunDirectory, $"features-{layer}.npy"));
            var values = new float[file.Rows * file.Cols];
            file.ReadRows(0, values);
            return values;
        }
        var fc6 = Read("fc6");
        var fc6relu = Read("fc6relu");
        Assert.That(fc6.Count(v => v < 0), Is.GreaterThan(fc6.Length / 10), "fc6 keeps its negative values");
        Assert.That(fc6relu, Is.EqualTo(fc6.Select(v => Math.Max(v, 0f)).ToArray()), "fc6relu = relu(fc6)");
    }

    [Test]
    [Category(TestTier.Fast)]
    public void InterruptedRunResumesWithoutRecomputingFinishedBatches()
    {
        using var whole = TestPaths.NewTempDir();
        using var interrupted = TestPaths.NewTempDir();
        var reference = ExperimentRunner.Run(Request(whole));

        // Cancel (as Ctrl-C does) once two batches of 4 are recorded.
        using var cancel = new CancellationTokenSource();
        var stopAfterTwo = new SyncProgress(u => { if (u.Done >= 8) cancel.Cancel(); });
        Assert.Throws<OperationCanceledException>(() => ExperimentRunner.Run(Request(interrupted), stopAfterTwo, cancel.Token));
        string run = Request(interrupted).RunDirectory;
        Assert.That(File.Exists(Path.Combine(run, "run.json")), Is.False, "no run.json while incomplete");
        Assert.That(Directory.GetFiles(run, "cos-*"), Is.Empty, "no result file before the run is complete");

        var resumed = ExperimentRunner.Run(Request(interrupted) with { Resume = true });
        Assert.That(resumed.PositionsComputed, Is.EqualTo(25 - 8));
        AssertSameResults(reference.RunDirectory, run);

        var again = ExperimentRunner.Run(Request(interrupted) with { Resume = true });
        Assert.That((again.Skipped, again.PositionsComputed), Is.EqualTo((true, 0)), "a complete run is skipped on --resume");

        var otherAnchors = ExperimentRunner.Run(Request(interrupted) with { Resume = true, AnchorSpecs = ["c", "31:62"] });
        Assert.That(otherAnchors.Skipped, Is.False, "new anchors are computed, not skipped");
        Assert.That(File.Exists(Path.Combine(run, "cos-fc7-31_62.csv")));
    }

    [Test]
    public void AnotherResizeMethodIsANewRunNotASkippedOne()
    {
        using var dir = TestPaths.NewTempDir();
        var first = ExperimentRunner.Run(Request(dir, stride: 62, layers: ["class"]));
        Assert.That(first.Complete, Is.True);
        var bilinear = DatasetCatalog.Resolve("berry");
        bilinear.ResizeMethod = DatasetConfig.BilinearResizeMethod;
        var second = ExperimentRunner.Run(Request(dir, stride: 62, layers: ["class"]) with { Dataset = bilinear, Resume = true });
        Assert.That((second.Skipped, second.PositionsComputed), Is.EqualTo((false, 9)), "the fingerprint includes resize_method");
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(second.RunDirectory, "run.json")))!;
        Assert.That(json["dataset"]!["config"]!["resize_method"]!.GetValue<string>(), Is.EqualTo("bilinear"));
    }

    [Test]
    public void KilledProcessResumesToTheSameResult()
    {
        using var whole = TestPaths.NewTempDir();
        using var killed = TestPaths.NewTempDir();
        var reference = ExperimentRunner.Run(Request(whole, stride: 12, layers: ["fc6", "class"], batch: 2));
        string run = Request(killed, stride: 12).RunDirectory;
        Directory.CreateDirectory(run);

        using var recorded = new SemaphoreSlim(0);
        using var watcher = new FileSystemWatcher(run, "progress.json") { IncludeSubdirectories = true, EnableRaisingEvents = true };
        watcher.Renamed += (_, _) => recorded.Release();
        var cli = TestCli.Start($"run --model alexnet --variant torchvision --dataset berry --stride 12 --layers fc6,class --batch-size 2 --weights deterministic --out {killed.Path}");
        Assert.That(recorded.Wait(TimeSpan.FromMinutes(2)), "the run recorded a finished batch");
        cli.Kill(entireProcessTree: true);
        cli.WaitForExit();
        Assert.That(File.Exists(Path.Combine(run, "run.json")), Is.False);

        var resumed = ExperimentRunner.Run(Request(killed, stride: 12, layers: ["fc6", "class"], batch: 2) with { Resume = true });
        Assert.That(resumed.PositionsComputed, Is.LessThan(resumed.Positions), "finished batches were kept");
        AssertSameResults(reference.RunDirectory, run);
    }

    [TestCase("--model lenet --dataset berry", "unknown model 'lenet'")]
    [TestCase("--model alexnet --dataset moon", "unknown dataset 'moon'")]
    [TestCase("--model alexnet --dataset berry --layers fc9", "unknown layer 'fc9'")]
    [TestCase("--model resnet50 --dataset berry --layers fc6", "unknown layer 'fc6'")]
    [TestCase("--model alexnet --dataset berry --anchors zz", "unknown anchor 'zz'")]
    [TestCase("--model alexnet --dataset berry --stride 31 --anchors 30:30", "outside the grid")]
    [TestCase("--model alexnet --dataset berry --stride 0", "--stride 0 is invalid")]
    [TestCase("--model alexnet --dataset berry --data-dir /nonexistent", "berry_transparent.png from https://jakehlee.github.io/interactive-invariance/data/images/berry_transparent.png into /nonexistent")]
    [TestCase("--model alexnet --dataset berry --weights-dir /nonexistent", "alexnet-owt-7be5be79.pth from https://download.pytorch.org/models/alexnet-owt-7be5be79.pth into /nonexistent")]
    [TestCase("--model alexnet --dataset berry --weights /nonexistent/a.pth", "weights file /nonexistent/a.pth is missing")]
    [TestCase("--model alexnet --dataset berry --out /etc/hostname/x", "is not writable")]
    [TestCase("--model alexnet --dataset berry --device tpu", "unknown device 'tpu'")]
    [TestCase("--model alexnet --dataset berry --reuse fast", "--reuse fast is invalid")]
    public void BadInputGivesOneLineAndNonZeroExit(string arguments, string expected)
    {
        using var dir = TestPaths.NewTempDir();
        string extra = (arguments.Contains("--out") ? "" : $" --out {dir.Path}") + (arguments.Contains("--stride") ? "" : " --stride 62")
            + (arguments.Contains("--weights") ? "" : " --weights deterministic");
        var (code, _, stderr) = TestCli.Run($"run --variant torchvision {arguments}{extra}".Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.That(code, Is.EqualTo(2), stderr);
        Assert.That(stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(1), stderr);
        Assert.That(stderr, Does.StartWith("error: ").And.Contain(expected));
    }

    [Test]
    public void WeightsForAnotherArchitectureListMissingAndUnexpectedKeys()
    {
        using var dir = TestPaths.NewTempDir();
        string file = TestPaths.Fixture("weights", "other_arch_zip.pth");
        var (code, _, stderr) = TestCli.Run("run", "--model", "alexnet", "--variant", "torchvision", "--dataset", "berry", "--stride", "62", "--weights", file, "--out", dir.Path);
        Assert.That(code, Is.EqualTo(2), stderr);
        Assert.That(stderr, Does.StartWith("error: ").And.Contain("other_arch_zip.pth").And.Contain("alexnet (torchvision)")
            .And.Contain("missing").And.Contain("features.0.weight").And.Contain("unexpected"));
        Assert.That(Directory.GetFiles(dir.Path, "run.json", SearchOption.AllDirectories), Is.Empty);
    }

    static void AssertSameResults(string expectedRun, string actualRun)
    {
        foreach (var file in Directory.GetFiles(expectedRun).Select(Path.GetFileName).Where(f => f!.EndsWith(".csv") || f.EndsWith(".npy")))
            Assert.That(File.ReadAllBytes(Path.Combine(actualRun, file!)), Is.EqualTo(File.ReadAllBytes(Path.Combine(expectedRun, file!))), file);
    }

    sealed class SyncProgress(Action<ProgressUpdate> onReport) : IProgress<ProgressUpdate>
    {
        public void Report(ProgressUpdate value) => onReport(value);
    }
}
