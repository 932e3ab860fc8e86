using System.Diagnostics;
using System.Text.Json.Nodes;
using ShiftBench.Analysis;
using ShiftBench.Runs;
using ShiftBench.Workflows;

namespace ShiftBench.Tests;

[Category(TestTier.Fast)]
public class SweepAndCompareTests
{
    static string WriteSpec(string dir, string datasets) =>
        WriteFile(Path.Combine(dir, "sweep.yaml"),
            $"out: {Path.Combine(dir, "out")}\nmodels: [alexnet]\nvariants: [torchvision, antialiased]\ndatasets: [{datasets}]\nstrides: [62]\nlayers: [fc7, class]\nanchors: [tl, c]\nweights: deterministic\nbatch_size: 9\n");

    static string WriteFile(string path, string text) { File.WriteAllText(path, text); return path; }

    static Task RealCell(SweepCell cell, CancellationToken cancel)
    {
        Sweep.RunCell(cell, TestPaths.DataDir, "weights", null, cancel);
        return Task.CompletedTask;
    }

    [Test]
    public void SweepRunsCellsSkipsCompleteOnesAndContinuesPastFailures()
    {
        using var dir = TestPaths.NewTempDir();
        var spec = SweepSpec.Load(WriteSpec(dir, "berry, no-such-dataset"));
        Assert.That(Sweep.Cells(spec).Select(c => c.Name), Is.EqualTo(new[]
        {
            "alexnet/torchvision/berry/stride-62", "alexnet/torchvision/no-such-dataset/stride-62",
            "alexnet/antialiased/berry/stride-62", "alexnet/antialiased/no-such-dataset/stride-62",
        }));

        var first = Sweep.Run(spec, RealCell);
        Assert.That(first.Select(o => o.Status), Is.EqualTo(new[] { "done", "failed", "done", "failed" }));
        Assert.That(first[1].Error, Does.Contain("unknown dataset 'no-such-dataset'"));

        var ran = new List<string>();
        var second = Sweep.Run(spec, (cell, ct) => { ran.Add(cell.Name); return RealCell(cell, ct); });
        Assert.That(second.Select(o => o.Status), Is.EqualTo(new[] { "skipped", "failed", "skipped", "failed" }));
        Assert.That(ran, Has.All.Contain("no-such-dataset"), "complete runs are not run again");

        var rows = File.ReadAllLines(Path.Combine(dir, "out", "sweep-summary.csv"));
        Assert.That(rows[0], Does.StartWith("model,variant,dataset,stride,status,layer,global,local"));
        // one row per complete run x layer (fc7, class) and one per failed cell
        Assert.That(rows.Skip(1).Count(r => r.Contains(",berry,")), Is.EqualTo(4));
        Assert.That(rows.Skip(1).Count(r => r.Contains(",failed,")), Is.EqualTo(2));
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "out", "berry", "alexnet", "torchvision", "summary.json")))!;
        string fc7Row = rows.Single(r => r.StartsWith("alexnet,torchvision,berry,62,skipped,fc7,"));
        Assert.That(double.Parse(fc7Row.Split(',')[6], System.Globalization.CultureInfo.InvariantCulture),
            Is.EqualTo(summary["layers"]!["fc7"]!["global"]!.GetValue<double>()).Within(1e-5));
        Assert.That(File.ReadAllText(Path.Combine(dir, "out", "sweep-summary.md")), Does.Contain("| alexnet | antialiased | berry | 62 |"));
    }

    [Test]
    public void ADatasetNamedByItsYamlPathRunsInTheConfigsFolderAndIsSkippedWhenComplete()
    {
        using var dir = TestPaths.NewTempDir();
        string yaml = WriteFile(Path.Combine(dir, "my-berry.yaml"),
            File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "configs", "berry.yaml")).Replace("name: berry", "name: berry-copy"));
        var spec = SweepSpec.Load(WriteSpec(dir, yaml));
        Assert.That(Sweep.Cells(spec).Select(c => c.RunDirectory), Is.EqualTo(new[]
        {
            Path.Combine(dir, "out", "berry-copy", "alexnet", "torchvision"), Path.Combine(dir, "out", "berry-copy", "alexnet", "antialiased"),
        }), "run folders are named by the config's name, as `run` names them");

        var first = Sweep.Run(spec, RealCell);
        Assert.That(first.Select(o => o.Status), Is.EqualTo(new[] { "done", "done" }));
        var rows = File.ReadAllLines(Path.Combine(dir, "out", "sweep-summary.csv"));
        string fc7 = rows.Single(r => r.StartsWith("alexnet,torchvision,berry-copy,62,done,fc7,"));
        Assert.That(fc7.Split(',')[6], Is.Not.Empty, "the metrics of the run are in the summary");

        var second = Sweep.Run(spec, RealCell);
        Assert.That(second.Select(o => o.Status), Is.EqualTo(new[] { "skipped", "skipped" }));
    }

    [Test]
    public void SweepCliExitsNonZeroNamingTheFailedCell()
    {
        using var dir = TestPaths.NewTempDir();
        string spec = WriteSpec(dir, "no-such-dataset");
        var (code, stdout, stderr) = TestCli.Run("sweep", spec);
        Assert.That(code, Is.EqualTo(1), stdout + stderr);
        Assert.That(stderr, Does.Contain("2 of 2 cells failed").And.Contain("alexnet/torchvision/no-such-dataset/stride-62"));
    }

    [Test]
    public void CompareSetsBothVariantsSideBySide()
    {
        using var dir = TestPaths.NewTempDir();
        var spec = SweepSpec.Load(WriteSpec(dir, "berry"));
        Sweep.Run(spec, RealCell);
        var rows = Comparison.Compare(spec.Out, "alexnet", "berry");
        JsonNode Summary(string variant) => JsonNode.Parse(File.ReadAllText(Path.Combine(spec.Out, "berry", "alexnet", variant, "summary.json")))!["layers"]!;
        var global = rows.Single(r => r.Layer == "fc7" && r.Metric == "global");
        Assert.That(global.Torchvision, Is.EqualTo(Summary("torchvision")["fc7"]!["global"]!.GetValue<double>()));
        Assert.That(global.Antialiased, Is.EqualTo(Summary("antialiased")["fc7"]!["global"]!.GetValue<double>()));
        Assert.That(global.Difference, Is.EqualTo(global.Antialiased - global.Torchvision));
        Assert.That(rows.Select(r => r.Metric), Does.Contain("c.std").And.Contain("consistency"));

        Directory.Delete(Path.Combine(spec.Out, "berry", "alexnet", "antialiased"), recursive: true);
        var half = Comparison.Compare(spec.Out, "alexnet", "berry");
        Assert.That(half.All(r => double.IsNaN(r.Antialiased)), "a variant that was not run reads as missing");

        var error = Assert.Throws<ShiftBenchException>(() => Comparison.Compare(spec.Out, "vgg16", "berry"))!;
        Assert.That(error.Message, Does.Contain("no complete run of vgg16 on berry"));
    }
}
