using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using ShiftBench.Analysis;

namespace ShiftBench.Tests;

/// <summary>compare on two run folders written from known features (FeatureRunFolders), in Core and through the CLI.</summary>
[Category(TestTier.Fast)]
public class CompareTests
{
    static (string Out, FeatureRunFolders.Run Tv, FeatureRunFolders.Run Aa) TwoRuns(string dir) =>
        (dir, FeatureRunFolders.Write(dir, "resnet50", "torchvision", rows: 6, stride: 16, seed: 11),
              FeatureRunFolders.Write(dir, "resnet50", "antialiased", rows: 6, stride: 16, seed: 12));

    static (int Code, string Stdout, string Stderr) Cli(params string[] args) => TestCli.Run(args);

    [Test]
    public void ComputesMissingSummariesAndSetsTheVariantsSideBySide()
    {
        using var dir = TestPaths.NewTempDir();
        var (outDir, tv, aa) = TwoRuns(dir);
        Assert.That(File.Exists(Path.Combine(tv.Directory, "summary.json")), Is.False);

        var rows = Comparison.Compare(outDir, "resnet50", "berry");
        Assert.That(File.Exists(Path.Combine(tv.Directory, "summary.json")) && File.Exists(Path.Combine(aa.Directory, "summary.csv")),
            "a complete run without a summary gets one");
        var global = rows.Single(r => (r.Layer, r.Metric) == ("pool", "global"));
        Assert.That(global.Torchvision, Is.EqualTo(tv.Global()).Within(1e-12));
        Assert.That(global.Antialiased, Is.EqualTo(aa.Global()).Within(1e-12));
        Assert.That(global.Difference, Is.EqualTo(aa.Global() - tv.Global()).Within(1e-12));
        var accuracy = rows.Single(r => (r.Layer, r.Metric) == ("class", "accuracy"));
        Assert.That(accuracy.Torchvision, Is.EqualTo(tv.Top1.Count(t => t == FeatureRunFolders.TargetClass) / (double)tv.N));
        Assert.That(rows.Select(r => $"{r.Layer}.{r.Metric}"), Is.Unique);
        Assert.That(rows.Select(r => r.Metric), Is.SupersetOf(new[] { "local", "period_x", "period_y", "period_power", "tl.mean", "c.min", "c.std", "consistency", "local_consistency", "max" }));
    }

    [Test]
    public void ThreeVariantsSideBySideWithDifferencesAgainstTheFirst()
    {
        using var dir = TestPaths.NewTempDir();
        var (outDir, tv, aa) = TwoRuns(dir);
        var lpf3 = FeatureRunFolders.Write(dir, "resnet50", "antialiased-lpf3", rows: 6, stride: 16, seed: 13);

        Assert.That(Comparison.DefaultVariants(outDir, "resnet50", "berry"), Is.EqualTo(new[] { "torchvision", "antialiased", "antialiased-lpf3" }));
        var global = Comparison.Compare(outDir, "resnet50", "berry").Single(r => (r.Layer, r.Metric) == ("pool", "global"));
        Assert.That(global.Value("antialiased-lpf3"), Is.EqualTo(lpf3.Global()).Within(1e-12));
        Assert.That(global.Antialiased, Is.EqualTo(aa.Global()).Within(1e-12));

        var json = Cli("compare", outDir, "--model", "resnet50", "--dataset", "berry", "--json");
        Assert.That(json.Code, Is.EqualTo(0), json.Stderr);
        var row = JsonNode.Parse(json.Stdout)!.AsArray().Single(r => r!["layer"]!.GetValue<string>() == "pool" && r["metric"]!.GetValue<string>() == "global")!;
        Assert.That(row["antialiased-lpf3"]!.GetValue<double>(), Is.EqualTo(lpf3.Global()).Within(1e-12));
        Assert.That(row["differences"]!["antialiased-lpf3"]!.GetValue<double>(), Is.EqualTo(lpf3.Global() - tv.Global()).Within(1e-12));

        var md = Cli("compare", outDir, "--model", "resnet50", "--dataset", "berry", "--markdown", "--variant", "antialiased-lpf3,antialiased");
        Assert.That(md.Code, Is.EqualTo(0), md.Stderr);
        var lines = md.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Is.EqualTo("| layer | metric | antialiased-lpf3 | antialiased | difference |"));
        string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
        Assert.That(lines, Does.Contain($"| pool | global | {F(lpf3.Global())} | {F(aa.Global())} | {F(aa.Global() - lpf3.Global())} |"));

        var one = Cli("compare", outDir, "--model", "resnet50", "--dataset", "berry", "--variant", "antialiased");
        Assert.That((one.Code, one.Stderr), Is.EqualTo((2, "error: --variant names 1 variant: compare needs two or more, e.g. torchvision,antialiased-lpf3\n")));
        var unknown = Cli("compare", outDir, "--model", "resnet50", "--dataset", "berry", "--variant", "torchvision,lpf9");
        Assert.That(unknown.Code, Is.EqualTo(2));
        Assert.That(unknown.Stderr, Does.Contain("unknown variant 'lpf9'"));
    }

    [Test]
    public void AnIncompleteVariantReadsAsNotRun()
    {
        using var dir = TestPaths.NewTempDir();
        FeatureRunFolders.Write(dir, "vgg16", "torchvision", rows: 3, stride: 16, seed: 1);
        FeatureRunFolders.Write(dir, "vgg16", "antialiased", rows: 3, stride: 16, seed: 2, complete: false);
        var rows = Comparison.Compare(dir, "vgg16", "berry");
        Assert.That(rows, Is.Not.Empty);
        Assert.That(rows.All(r => double.IsNaN(r.Antialiased) && double.IsNaN(r.Difference) && !double.IsNaN(r.Torchvision)));
    }

    [Test]
    public void CliPrintsJsonAndMarkdown()
    {
        using var dir = TestPaths.NewTempDir();
        var (outDir, tv, aa) = TwoRuns(dir);

        var json = Cli("compare", outDir, "--model", "resnet50", "--dataset", "berry", "--json");
        Assert.That(json.Code, Is.EqualTo(0), json.Stderr);
        var global = JsonNode.Parse(json.Stdout)!.AsArray().Single(r => r!["layer"]!.GetValue<string>() == "pool" && r["metric"]!.GetValue<string>() == "global")!;
        Assert.That(global["torchvision"]!.GetValue<double>(), Is.EqualTo(tv.Global()).Within(1e-12));
        Assert.That(global["difference"]!.GetValue<double>(), Is.EqualTo(aa.Global() - tv.Global()).Within(1e-12));

        var md = Cli("compare", outDir, "--model", "resnet50", "--dataset", "berry", "--markdown");
        Assert.That(md.Code, Is.EqualTo(0), md.Stderr);
        var lines = md.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Is.EqualTo("| layer | metric | torchvision | antialiased | difference |"));
        string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
        Assert.That(lines, Does.Contain($"| pool | global | {F(tv.Global())} | {F(aa.Global())} | {F(aa.Global() - tv.Global())} |"));

        var table = Cli("compare", outDir, "--model", "resnet50", "--dataset", "berry");
        Assert.That(table.Code, Is.EqualTo(0), table.Stderr);
        Assert.That(table.Stdout, Does.Contain("global").And.Contain(F(tv.Global())));
    }

    [Test]
    public void CliRefusesBothFormatsAndAMissingRun()
    {
        using var dir = TestPaths.NewTempDir();
        var (outDir, _, _) = TwoRuns(dir);
        var both = Cli("compare", outDir, "--model", "resnet50", "--dataset", "berry", "--json", "--markdown");
        Assert.That((both.Code, both.Stderr.Trim()), Is.EqualTo((2, "error: --json and --markdown are exclusive: give one of them (or neither for a table)")));
        var missing = Cli("compare", outDir, "--model", "alexnet", "--dataset", "berry");
        Assert.That(missing.Code, Is.EqualTo(2));
        Assert.That(missing.Stderr, Does.StartWith("error: no complete run of alexnet on berry"));
    }
}
