using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using ShiftBench.Runs;
using ShiftBench.Workflows;

namespace ShiftBench.Tests;

/// <summary>
/// The sweep engine with a cell runner that writes small run folders (FeatureRunFolders): a real runner
/// for the engine, fast enough to exercise skipping, failures and the summary files in detail.
/// </summary>
[Category(TestTier.Fast)]
public class SweepTests
{
    static SweepSpec Spec(string dir, string body)
    {
        string path = Path.Combine(dir, "sweep.yaml");
        File.WriteAllText(path, $"out: {Path.Combine(dir, "out")}\n" + body);
        return SweepSpec.Load(path);
    }

    const string TwoByTwo = "models: [alexnet, mobilenet_v2]\nvariants: [torchvision, antialiased]\ndatasets: [berry]\nstrides: [16]\nlayers: [pool, class]\nanchors: [tl, c]\nweights: deterministic\n";

    /// <summary>Writes the cell's run folder; the seed differs per cell so every run has its own numbers.</summary>
    static Func<SweepCell, CancellationToken, Task> Writer(List<string> ran, string? failOn = null) => (cell, _) =>
    {
        ran.Add(cell.Name);
        if (failOn is not null && cell.Name.Contains(failOn))
            throw new InvalidOperationException("weights file alexnet.pth is broken, \"truncated\"\nsecond line");
        FeatureRunFolders.Write(cell.OutRoot, cell.Model, cell.Variant, rows: 4, stride: cell.Stride, seed: ran.Count,
            dataset: cell.DatasetName, weights: cell.Spec.Weights ?? "/weights/" + cell.Model + ".pth");
        return Task.CompletedTask;
    };

    [Test]
    public void CompleteCellsAreSkippedAndAFailedCellDoesNotStopTheRest()
    {
        using var dir = TestPaths.NewTempDir();
        var spec = Spec(dir, TwoByTwo);
        var ran = new List<string>();
        var first = Sweep.Run(spec, Writer(ran, failOn: "alexnet/antialiased"));
        Assert.That(first.Select(o => (o.Cell.Name, o.Status)), Is.EqualTo(new[]
        {
            ("alexnet/torchvision/berry/stride-16", "done"), ("alexnet/antialiased/berry/stride-16", "failed"),
            ("mobilenet_v2/torchvision/berry/stride-16", "done"), ("mobilenet_v2/antialiased/berry/stride-16", "done"),
        }));
        Assert.That(first[1].Error, Does.StartWith("weights file alexnet.pth is broken").And.Not.Contain("second line"));

        ran.Clear();
        var second = Sweep.Run(spec, Writer(ran));
        Assert.That(ran, Is.EqualTo(new[] { "alexnet/antialiased/berry/stride-16" }), "only the failed cell runs again");
        Assert.That(second.Select(o => o.Status), Is.EqualTo(new[] { "skipped", "done", "skipped", "skipped" }));
    }

    [Test]
    public void SummaryHasOneRowPerRunAndLayerWithTheRunsOwnMetrics()
    {
        using var dir = TestPaths.NewTempDir();
        var spec = Spec(dir, TwoByTwo);
        Sweep.Run(spec, Writer([], failOn: "mobilenet_v2/antialiased"));
        var lines = File.ReadAllLines(Path.Combine(spec.Out, "sweep-summary.csv"));
        var header = lines[0].Split(',');
        Assert.That(header[..6], Is.EqualTo(new[] { "model", "variant", "dataset", "stride", "status", "layer" }));
        Assert.That(header[^1], Is.EqualTo("error"));
        // 3 complete runs x (pool, class) + 1 failed cell
        Assert.That(lines.Length - 1, Is.EqualTo(7));

        foreach (var (variant, model) in new[] { ("torchvision", "alexnet"), ("antialiased", "alexnet"), ("torchvision", "mobilenet_v2") })
        {
            var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(spec.Out, "berry", model, variant, "summary.json")))!["layers"]!;
            var pool = lines.Single(l => l.StartsWith($"{model},{variant},berry,16,done,pool,")).Split(',');
            Assert.That(double.Parse(pool[Array.IndexOf(header, "global")], CultureInfo.InvariantCulture),
                Is.EqualTo(summary["pool"]!["global"]!.GetValue<double>()).Within(1e-5));
            Assert.That(double.Parse(pool[Array.IndexOf(header, "c.mean")], CultureInfo.InvariantCulture),
                Is.EqualTo(summary["pool"]!["anchors"]!["c"]!["mean"]!.GetValue<double>()).Within(1e-5));
            var cls = lines.Single(l => l.StartsWith($"{model},{variant},berry,16,done,class,")).Split(',');
            Assert.That(double.Parse(cls[Array.IndexOf(header, "consistency")], CultureInfo.InvariantCulture),
                Is.EqualTo(summary["class"]!["consistency"]!.GetValue<double>()).Within(1e-5));
        }
        // The error has a comma, quotes and a newline: quoted as one CSV field, first line only.
        string failed = lines.Single(l => l.Contains(",failed,"));
        Assert.That(failed, Does.EndWith(",\"weights file alexnet.pth is broken, \"\"truncated\"\"\""));
        Assert.That(File.ReadAllText(Path.Combine(spec.Out, "sweep-summary.md")),
            Does.Contain("| mobilenet_v2 | antialiased | berry | 16 | failed: weights file alexnet.pth is broken").And.Contain("| alexnet | torchvision | berry | 16 | done | pool |"));
    }

    [Test]
    public void ACompleteRunMadeWithOtherSettingsIsRunAgain()
    {
        using var dir = TestPaths.NewTempDir();
        const string one = "models: [alexnet]\nvariants: [torchvision]\ndatasets: [berry]\nlayers: [pool, class]\nanchors: [tl, c]\n";
        Sweep.Run(Spec(dir, one + "strides: [16]\nweights: deterministic\n"), Writer([]));

        // Same folder, but each of these asks for something the stored run was not made with.
        foreach (var changed in new[]
        {
            "strides: [8]\nweights: deterministic\n",            // another stride
            "strides: [16]\n",                                    // published weights, not synthetic ones
            "strides: [16]\nweights: deterministic\nanchors: [tl, c, br]\n",
        })
        {
            var spec = Spec(dir, changed.Contains("anchors") ? one.Replace("anchors: [tl, c]\n", "") + changed : one + changed);
            Assert.That(Sweep.IsComplete(Sweep.Cells(spec).Single()), Is.False, changed);
        }
        Assert.That(Sweep.IsComplete(Sweep.Cells(Spec(dir, one + "strides: [16]\nweights: deterministic\n")).Single()), Is.True);

        // A run resized with another method (or recorded before resize_method existed: the float method) is not this cell.
        string runJson = Path.Combine(dir, "out", "berry", "alexnet", "torchvision", "run.json");
        string original = File.ReadAllText(runJson);
        foreach (var stored in new[] { "bilinear", null })
        {
            var edited = JsonNode.Parse(original)!;
            var config = edited["dataset"]!["config"]!.AsObject();
            config.Remove("resize_method");
            if (stored is not null) config["resize_method"] = stored;
            File.WriteAllText(runJson, edited.ToJsonString());
            Assert.That(Sweep.IsComplete(Sweep.Cells(Spec(dir, one + "strides: [16]\nweights: deterministic\n")).Single()), Is.False, stored ?? "no resize_method");
        }
        File.WriteAllText(runJson, original);
        Assert.That(Sweep.IsComplete(Sweep.Cells(Spec(dir, one + "strides: [16]\nweights: deterministic\n")).Single()), Is.True, "restored");
        Assert.That(Sweep.IsComplete(Sweep.Cells(Spec(dir, one.Replace("layers: [pool, class]\n", "layers: [pool]\n") + "strides: [16]\nweights: deterministic\n")).Single()),
            Is.True, "a run with more layers than asked for still holds what was asked");

        var ran = new List<string>();
        var outcome = Sweep.Run(Spec(dir, one + "strides: [8]\nweights: deterministic\n"), Writer(ran)).Single();
        Assert.That((outcome.Status, ran.Count), Is.EqualTo(("done", 1)));
        var run = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "out", "berry", "alexnet", "torchvision", "run.json")))!;
        Assert.That(run["grid"]!["stride"]!.GetValue<int>(), Is.EqualTo(8));
    }

    [Test]
    public void SeveralStridesGoToTheirOwnFolders()
    {
        using var dir = TestPaths.NewTempDir();
        var spec = Spec(dir, "models: [alexnet]\nvariants: [torchvision]\ndatasets: [berry, berry]\nstrides: [16, 32]\n");
        Assert.That(Sweep.Cells(spec).Select(c => c.RunDirectory), Is.EqualTo(new[]
        {
            Path.Combine(spec.Out, "stride-16", "berry", "alexnet", "torchvision"),
            Path.Combine(spec.Out, "stride-32", "berry", "alexnet", "torchvision"),
        }), "duplicates in a list make no second cell");
    }

    [TestCase("variants: [torchvision, antialised]\n", "unknown variant 'antialised' in variants")]
    [TestCase("models: [resnet5]\n", "unknown model 'resnet5' in models")]
    [TestCase("datasets: []\n", "datasets is empty")]
    [TestCase("strides: [0]\n", "strides must be 1 or more")]
    [TestCase("stride: [16]\n", "invalid sweep at line")]
    public void BadSweepFilesAreRefusedBeforeAnythingRuns(string change, string message)
    {
        using var dir = TestPaths.NewTempDir();
        string path = Path.Combine(dir, "sweep.yaml");
        var fields = new Dictionary<string, string> { ["models"] = "models: [alexnet]\n", ["variants"] = "variants: [torchvision]\n", ["datasets"] = "datasets: [berry]\n" };
        string key = change.Split(':')[0];
        fields[key] = change;
        File.WriteAllText(path, string.Concat(fields.Values));
        var error = Assert.Throws<ShiftBenchException>(() => SweepSpec.Load(path))!;
        Assert.That(error.Message, Does.StartWith(path).And.Contain(message));
    }

    [Test]
    public void DryRunListsTheCellsAndWhichAreComplete()
    {
        using var dir = TestPaths.NewTempDir();
        var spec = Spec(dir, TwoByTwo);
        Writer([])(Sweep.Cells(spec)[2], CancellationToken.None); // mobilenet_v2/torchvision is complete
        var (code, stdout, stderr) = TestCli.Run("sweep", Path.Combine(dir, "sweep.yaml"), "--dry-run");
        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(4));
        Assert.That(lines[2], Does.StartWith("complete").And.Contain("mobilenet_v2/torchvision/berry/stride-16"));
        Assert.That(lines.Where((_, i) => i != 2), Has.All.StartWith("to run"));
        Assert.That(Directory.Exists(Path.Combine(spec.Out, "berry", "alexnet")), Is.False, "a dry run runs nothing");
    }
}
