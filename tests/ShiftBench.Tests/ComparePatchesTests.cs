using System.Text.Json.Nodes;
using NUnit.Framework;

namespace ShiftBench.Tests;

/// <summary>
/// `compare` over a `patches` run (real processes): the class metrics are each patch's (against its own
/// target class, from its own top1.npy) averaged over patches, since the mean grid has no top-1 of its own.
/// </summary>
public class ComparePatchesTests
{
    [Test]
    public void CompareWorksOverAPatchesRun()
    {
        using var temp = TestPaths.NewTempDir();
        string data = Path.Combine(temp, "data"), outDir = Path.Combine(temp, "out");
        Directory.CreateDirectory(Path.Combine(data, "pp"));
        File.Copy(Path.Combine(TestPaths.DataDir, "plane.png"), Path.Combine(data, "pp", "a.png"));
        File.Copy(Path.Combine(TestPaths.DataDir, "berry_transparent.png"), Path.Combine(data, "pp", "b.png"));
        string config = Path.Combine(temp, "pp.yaml");
        File.WriteAllText(config, "name: pp\nkind: patches\ntarget_class: 949\ncanvas: {size: 224}\npatches: {folder: pp, size: 100}\nstride: 62\n");

        var run = TestCli.Run("run", "--model", "alexnet", "--variant", "torchvision", "--weights", "deterministic",
            "--dataset", config, "--data-dir", data, "--offline", "--out", outDir);
        Assert.That(run.Code, Is.EqualTo(0), run.Stderr);

        var (code, stdout, stderr) = TestCli.Run("compare", outDir, "--model", "alexnet", "--dataset", "pp", "--json");
        Assert.That(code, Is.EqualTo(0), stderr);
        var rows = JsonNode.Parse(stdout)!.AsArray();
        double Value(string layer, string metric) => rows.Single(r => r!["layer"]!.GetValue<string>() == layer && r["metric"]!.GetValue<string>() == metric)!["torchvision"]!.GetValue<double>();

        string runDir = Path.Combine(outDir, "pp", "alexnet", "torchvision");
        double PatchMetric(string patch, string metric) =>
            JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, "patches", patch, "summary.json")))!["layers"]!["class"]![metric]!.GetValue<double>();
        foreach (var metric in new[] { "mean", "consistency", "flip_rate" })
            Assert.That(Value("class", metric), Is.EqualTo((PatchMetric("a", metric) + PatchMetric("b", metric)) / 2).Within(1e-12), metric);
        Assert.That(PatchMetric("a", "mean"), Is.Not.EqualTo(PatchMetric("b", "mean")), "the patches differ, so the mean is a real average");
        Assert.That(Value("fc7", "c.mean"), Is.InRange(-1.0, 1.0), "the cosine layers come from the mean grids as before");
    }
}
