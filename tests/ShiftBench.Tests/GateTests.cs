using System.Text.Json.Nodes;
using System.Xml.Linq;
using ShiftBench.Analysis;
using ShiftBench.Runs;
using ShiftBench.Workflows;

namespace ShiftBench.Tests;

/// <summary>CI gates in sweep files and `compare --gate`, and their JUnit XML, on run folders of known metrics.</summary>
[Category(TestTier.Fast)]
public class GateTests
{
    const string TwoModels = "models: [alexnet, mobilenet_v2]\nvariants: [torchvision, antialiased]\ndatasets: [berry]\nstrides: [16]\nlayers: [pool, class]\nanchors: [tl, c]\nweights: deterministic\n";

    static SweepSpec Spec(string dir, string body)
    {
        string path = Path.Combine(dir, "sweep.yaml");
        File.WriteAllText(path, $"out: {Path.Combine(dir, "out")}\n" + body);
        return SweepSpec.Load(path);
    }

    /// <summary>Writes each cell's run folder from random features (a different seed per cell).</summary>
    static Func<SweepCell, CancellationToken, Task> Writer(string? skip = null)
    {
        int seed = 0;
        return (cell, _) =>
        {
            seed++;
            if (skip is null || !cell.Name.Contains(skip))
                FeatureRunFolders.Write(cell.OutRoot, cell.Model, cell.Variant, rows: 4, stride: cell.Stride, seed: seed, dataset: cell.DatasetName, weights: "deterministic");
            return Task.CompletedTask;
        };
    }

    static double Metric(string outDir, string model, string variant, string layer, string metric) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "berry", model, variant, "summary.json")))!["layers"]![layer]![metric]!.GetValue<double>();

    [Test]
    public void AGateIsCheckedInEveryScopeItLeavesOpenWithTheRunsOwnValues()
    {
        using var dir = TestPaths.NewTempDir();
        var spec = Spec(dir, TwoModels + "gates:\n  - antialiased.pool.global >= torchvision.pool.global\n  - mobilenet_v2.antialiased.class.accuracy > 1\n  - torchvision.class.c.mean >= 0\n");
        Sweep.Run(spec, Writer());
        var results = Sweep.EvaluateGates(spec);

        Assert.That(results.Select(r => r.Name), Is.EqualTo(new[]
        {
            "antialiased.pool.global >= torchvision.pool.global [alexnet/berry/stride-16]",
            "antialiased.pool.global >= torchvision.pool.global [mobilenet_v2/berry/stride-16]",
            "mobilenet_v2.antialiased.class.accuracy > 1 [mobilenet_v2/berry/stride-16]",
            "torchvision.class.c.mean >= 0 [alexnet/berry/stride-16]",
            "torchvision.class.c.mean >= 0 [mobilenet_v2/berry/stride-16]",
        }), "a gate pinned to one model is checked once");
        foreach (var model in new[] { "alexnet", "mobilenet_v2" })
        {
            double aa = Metric(spec.Out, model, "antialiased", "pool", "global"), tv = Metric(spec.Out, model, "torchvision", "pool", "global");
            var result = results.Single(r => r.Name.StartsWith("antialiased.pool.global") && r.Scope.StartsWith(model));
            Assert.That(result.Passed, Is.EqualTo(aa >= tv), model);
            Assert.That(result.Detail, Does.StartWith($"{aa.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)} >= "));
        }
        var accuracy = results.Single(r => r.Gate.StartsWith("mobilenet_v2"));
        Assert.That(accuracy.Passed, Is.False, "an accuracy is never above 1");
        Assert.That(results.Where(r => r.Gate.StartsWith("torchvision.class")), Has.All.Matches<GateResult>(r => !r.Passed && r.Detail.Contains("has no metric class.c.mean")),
            "a metric the summary lacks fails the gate");
        Assert.That(File.ReadAllText(Path.Combine(spec.Out, "sweep-summary.md")),
            Does.Contain("| `mobilenet_v2.antialiased.class.accuracy > 1` | mobilenet_v2/berry/stride-16 | **FAIL** |"));
    }

    [Test]
    public void AGateOnARunThatIsMissingFailsNamingTheRun()
    {
        using var dir = TestPaths.NewTempDir();
        var spec = Spec(dir, TwoModels + "gates: [\"antialiased.pool.local >= 0.5\"]\n");
        Sweep.Run(spec, Writer(skip: "alexnet/antialiased"));
        var alexnet = Sweep.EvaluateGates(spec).Single(r => r.Scope.StartsWith("alexnet"));
        Assert.That(alexnet.Passed, Is.False);
        Assert.That(alexnet.Detail, Is.EqualTo("no complete run of alexnet (antialiased) on berry at stride 16"));
    }

    [TestCase("antialiased.pool.global", "has no comparison")]
    [TestCase("0.5 >= 0.2", "compares two numbers")]
    [TestCase("antialised.pool.global >= 0.5", "\"antialised.pool.global\" is not a number or [model.][dataset.]variant.layer.metric")]
    [TestCase("resnet50.antialiased.class.accuracy >= 0.9", "\"resnet50.antialiased.class.accuracy\" is not a number")]
    [TestCase("antialiased.pool >= 0.5", "needs a layer and a metric after the variant")]
    public void BadGatesAreRefusedWhenTheSweepFileIsRead(string gate, string message)
    {
        using var dir = TestPaths.NewTempDir();
        var error = Assert.Throws<ShiftBenchException>(() => Spec(dir, TwoModels + $"gates: [\"{gate}\"]\n"))!;
        Assert.That(error.Message, Does.Contain($"sweep.yaml: gates: gate \"{gate}\"").And.Contain(message));
    }

    [Test]
    public void SweepCliFailsOnAFailedGateAndWritesJUnit()
    {
        using var dir = TestPaths.NewTempDir();
        string path = Path.Combine(dir, "sweep.yaml");
        File.WriteAllText(path, $"out: {Path.Combine(dir, "out")}\nmodels: [alexnet]\nvariants: [torchvision, antialiased]\ndatasets: [berry]\nstrides: [62]\n" +
            "layers: [fc7, class]\nanchors: [tl]\nweights: deterministic\nbatch_size: 9\ngates:\n  - torchvision.fc7.global <= 1\n  - antialiased.class.accuracy >= 1.5\n");
        string junit = Path.Combine(dir, "reports", "sweep.xml");

        var (code, stdout, stderr) = TestCli.Run("sweep", path, "--junit", junit);

        Assert.That(code, Is.EqualTo(1), stdout + stderr);
        Assert.That(stderr.Trim().Split('\n')[^1], Does.StartWith("error: 1 of 2 gates failed: antialiased.class.accuracy >= 1.5 [alexnet/berry/stride-62]"));
        Assert.That(stdout, Does.Contain("pass     gate torchvision.fc7.global <= 1 [alexnet/berry/stride-62]"));
        var suite = XDocument.Load(junit).Root!.Element("testsuite")!;
        Assert.That((suite.Attribute("tests")!.Value, suite.Attribute("failures")!.Value), Is.EqualTo(("4", "1")));
        var cases = suite.Elements("testcase").ToList();
        Assert.That(cases.Select(c => c.Attribute("name")!.Value), Is.EqualTo(new[]
        {
            "alexnet/torchvision/berry/stride-62", "alexnet/antialiased/berry/stride-62",
            "torchvision.fc7.global <= 1 [alexnet/berry/stride-62]", "antialiased.class.accuracy >= 1.5 [alexnet/berry/stride-62]",
        }));
        Assert.That(cases.Select(c => c.Element("failure") is not null), Is.EqualTo(new[] { false, false, false, true }));
        Assert.That(cases[3].Element("failure")!.Attribute("message")!.Value, Does.EndWith(">= 1.5 is false"));
    }

    [Test]
    public void CompareGatesExitNonZeroWhenOneFailsAndWriteJUnit()
    {
        using var dir = TestPaths.NewTempDir();
        FeatureRunFolders.Write(dir, "alexnet", "torchvision", rows: 4, stride: 16, seed: 1);
        FeatureRunFolders.Write(dir, "alexnet", "antialiased", rows: 4, stride: 16, seed: 2);
        double tv = Comparison.Summary(Path.Combine(dir, "berry", "alexnet", "torchvision"))!.Layers["pool"]["global"]!.Value;
        double aa = Comparison.Summary(Path.Combine(dir, "berry", "alexnet", "antialiased"))!.Layers["pool"]["global"]!.Value;
        string holds = aa >= tv ? "antialiased.pool.global >= torchvision.pool.global" : "antialiased.pool.global < torchvision.pool.global";
        string junit = Path.Combine(dir, "compare.xml");

        var passing = TestCli.Run("compare", dir, "--model", "alexnet", "--dataset", "berry", "--json", "--gate", holds, "--junit", junit);
        Assert.That(passing.Code, Is.EqualTo(0), passing.Stderr);
        Assert.That(JsonNode.Parse(passing.Stdout), Is.Not.Null, "stdout stays parseable JSON");
        Assert.That(XDocument.Load(junit).Root!.Element("testsuite")!.Attribute("tests")!.Value, Is.EqualTo("3"), "two runs and one gate");

        var failing = TestCli.Run("compare", dir, "--model", "alexnet", "--dataset", "berry", "--gate", holds.Contains(">=") ? holds.Replace(">=", "<") : holds.Replace("<", ">="));
        Assert.That(failing.Code, Is.EqualTo(1));
        Assert.That(failing.Stderr, Does.Contain("error: 1 of 1 gates failed"));
    }
}
