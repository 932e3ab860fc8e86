using System.Text.Json.Nodes;

namespace ShiftBench.Tests;

/// <summary>An ONNX run downstream: in a sweep beside zoo networks, in compare and figure pair beside a zoo variant, in the report, in bench.</summary>
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
