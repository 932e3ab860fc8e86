using System.Text.Json.Nodes;
using ShiftBench.Analysis;
using ShiftBench.Output;

namespace ShiftBench.Tests;

/// <summary>An ONNX run downstream: in a sweep beside zoo networks, in compare and figure pair beside a zoo variant, in the report, in bench.</summary>
[Category(TestTier.Fast)]
public class OnnxDownstreamTests
{
    static string Tiny => TestPaths.Fixture("onnx", "tiny.onnx");

    [Test]
    public void SweepCompareFigureAndReportTreatItLikeAZooNetwork()
    {
        using var dir = TestPaths.NewTempDir();
        string outDir = Path.Combine(dir, "out");
        string sweep = Path.Combine(dir, "sweep.yaml");
        File.WriteAllText(sweep, $"out: {outDir}\nmodels: [alexnet, {Tiny}]\nvariants: [torchvision]\ndatasets: [berry]\nstrides: [31]\nweights: deterministic\nanchors: [tl, c]\n");
        var (code, stdout, stderr) = TestCli.Run("sweep", sweep);
        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        Assert.That(stdout, Does.Contain("done     tiny/onnx/berry/stride-31"));
        var summary = File.ReadAllLines(Path.Combine(outDir, "sweep-summary.csv"));
        Assert.That(summary.Count(l => l.StartsWith("tiny,onnx,berry,31,done,")), Is.EqualTo(3), "rows for map, fc and class");
        Assert.That(summary.Count(l => l.StartsWith("alexnet,torchvision,berry,31,done,")), Is.GreaterThan(0));
        (code, stdout, _) = TestCli.Run("sweep", sweep);
        Assert.That(stdout, Does.Contain("skipped  tiny/onnx/berry/stride-31").And.Contain("skipped  alexnet/torchvision"), "a complete ONNX run is recognised");

        (code, stdout, stderr) = TestCli.Run("compare", outDir, "--dataset", "berry", "--pair", "alexnet/torchvision", "tiny/onnx", "--json");
        Assert.That(code, Is.EqualTo(0), stderr);
        var rows = JsonNode.Parse(stdout)!.AsArray();
        var consistency = rows.Single(r => r!["layer"]!.GetValue<string>() == "class" && r["metric"]!.GetValue<string>() == "consistency")!;
        Assert.That(consistency["alexnet/torchvision"], Is.Not.Null);
        Assert.That(consistency["tiny/onnx"], Is.Not.Null);
        var global = rows.Single(r => r!["layer"]!.GetValue<string>() == "fc" && r["metric"]!.GetValue<string>() == "global")!;
        Assert.That(global["difference"]!.GetValue<double>(), Is.EqualTo(global["tiny/onnx"]!.GetValue<double>() - global["alexnet/torchvision"]!.GetValue<double>()).Within(1e-12));
        Assert.That(rows.Any(r => r!["layer"]!.GetValue<string>() == "map" && r["alexnet/torchvision"] is null), Is.True, "a layer only one run has");

        string figure = Path.Combine(dir, "pair.png");
        (code, stdout, stderr) = TestCli.Run("figure", "pair", outDir, "--pair", "alexnet/torchvision", "tiny/onnx", "--dataset", "berry", "--layer", "fc", "--anchor", "c", "--out", figure);
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(new FileInfo(figure).Length, Is.GreaterThan(1000));
        (code, _, stderr) = TestCli.Run("figure", "pair", outDir, "--pair", "alexnet/torchvision", "tiny/resnet", "--dataset", "berry", "--layer", "fc", "--anchor", "c");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("no run tiny/resnet on dataset 'berry'"));

        (code, _, stderr) = TestCli.Run("report", outDir);
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(File.ReadAllText(Path.Combine(outDir, "index.html")), Does.Contain("tiny"));
    }

    [Test]
    public void MapLayerOfAnOnnxGraphRecordsItsShapeAndFeedsEquivariance()
    {
        // tiny.onnx's `map` output is [N,16,H/8,W/8]: on 64-pixel crops an 8x8 map, one cell per 8 pixels.
        using var dir = TestPaths.NewTempDir();
        string outDir = Path.Combine(dir, "out");
        string dataset = ModuleLayerTests.TinyDataset(dir, stride: 4);
        var (code, stdout, stderr) = TestCli.Run("run", "--model", Tiny, "--dataset", dataset, "--layers", "map@map", "--anchors", "c", "--input-size", "64",
            "--data-dir", TestPaths.DataDir, "--out", outDir);
        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        string run = Path.Combine(outDir, "tiny", "tiny", "onnx");
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(run, RunLayout.RunJson)))!;
        Assert.That(json["onnx"]!["layers"]!["map@map"]!["shape"]!.AsArray().Select(d => d!.GetValue<int>()), Is.EqualTo(new[] { 16, 8, 8 }));
        var (grid, offsets) = GridCsv.Read(Path.Combine(run, "equiv-map@map-c.csv"));
        Assert.That(offsets, Is.EqualTo(new[] { 0, 4, 8, 12, 16 }));
        int cell = Equivariance.CellStride(64, 8);
        Assert.That(cell, Is.EqualTo(8));
        for (int r = 0; r < 5; r++)
            for (int c = 0; c < 5; c++)
                Assert.That(double.IsNaN(grid[r, c]), Is.EqualTo((offsets[r] - 8) % cell != 0 || (offsets[c] - 8) % cell != 0), $"({r},{c})");
        Assert.That(grid[2, 2], Is.EqualTo(0).Within(1e-6), "the anchor against itself");
        Assert.That(grid[0, 0], Is.GreaterThan(0), "a real network is not exactly equivariant at the crop's border");
    }

    [Test]
    public void BenchReportsOnnxBesideTorchSharp()
    {
        var (code, stdout, stderr) = TestCli.Run("bench", "--model", Tiny, "--against", "alexnet", "--images", "8", "--batch-size", "4");
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Match(@"tiny \(ONNX Runtime 1\.31\.\d+\)\s+\d+\.\d img/s\s+\d+\.\d img/s"));
        Assert.That(stdout, Does.Match(@"alexnet torchvision \(TorchSharp\)\s+\d+\.\d img/s\s+\d+\.\d img/s"));
    }

    [Test]
    public void BadOnnxFileStopsASweepBeforeAnyCell()
    {
        using var dir = TestPaths.NewTempDir();
        string sweep = Path.Combine(dir, "sweep.yaml");
        File.WriteAllText(sweep, $"out: {Path.Combine(dir, "out")}\nmodels: [alexnet, {TestPaths.Fixture("onnx", "nhwc.onnx")}]\ndatasets: [berry]\nweights: deterministic\n");
        var (code, _, stderr) = TestCli.Run("sweep", sweep);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("channels last (NHWC)"));
        Assert.That(Directory.Exists(Path.Combine(dir, "out")), Is.False);
    }
}
