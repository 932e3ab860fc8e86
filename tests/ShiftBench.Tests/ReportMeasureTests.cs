using System.Diagnostics;
using ShiftBench.Report;

namespace ShiftBench.Tests;

/// <summary>Measurements for the record, not run by default: `dotnet test --filter "TestCategory=Measure"`.</summary>
[Explicit("measurements for the record (page size, PNG time), not checks: run with --filter TestCategory=Measure"), Category("Measure")]
public class ReportMeasureTests
{
    static readonly (string Model, string[] Layers)[] StudyNetworks =
    [
        ("alexnet", ["pool", "fc6", "fc6relu", "fc7", "fc7relu", "fc", "class"]),
        ("vgg16", ["pool", "fc6", "fc6relu", "fc7", "fc7relu", "fc", "class"]),
        ("resnet50", ["pool", "fc", "class"]),
        ("mobilenet_v2", ["pool", "fc", "class"]),
    ];

    [Test]
    public void FullStudyPageStaysEmailable()
    {
        string dataDir = SyntheticRuns.RequireData();
        string outDir = SyntheticRuns.NewOutDir();
        int seed = 0;
        foreach (var dataset in new[] { "berry", "plane" })
            foreach (var (model, layers) in StudyNetworks)
                foreach (var variant in new[] { "torchvision", "antialiased" })
                    SyntheticRuns.Write(outDir, dataset, model, variant, 133, 133, 1, layers, seed: ++seed, noise: 0.01);
        var clock = Stopwatch.StartNew();
        var result = ReportBuilder.Build(outDir, [dataDir]);
        TestContext.Out.WriteLine($"{result.Runs} runs, {result.Grids} grids of 133x133: {result.Bytes} bytes ({result.Bytes / 1048576.0:F2} MiB), built in {clock.Elapsed.TotalSeconds:F1} s");
        Assert.That(result.Grids, Is.EqualTo(336));
        Assert.That(result.Bytes, Is.LessThan(20_000_000));
        Directory.Delete(outDir, recursive: true);
    }

    [Test]
    public void HeatmapPngTime()
    {
        var grid = new double[133, 133];
        var rng = new Random(1);
        for (int r = 0; r < 133; r++) for (int c = 0; c < 133; c++) grid[r, c] = 0.9 + 0.1 * rng.NextDouble();
        string dir = SyntheticRuns.NewOutDir();
        Heatmap.SavePng(Path.Combine(dir, "warm.png"), grid, 1, 0.9, 1.0, "warm-up");
        var clock = Stopwatch.StartNew();
        const int n = 20;
        for (int i = 0; i < n; i++) Heatmap.SavePng(Path.Combine(dir, $"cos-fc-{i}.png"), grid, 1, 0.9, 1.0, $"resnet50 fc {i}");
        TestContext.Out.WriteLine($"Heatmap.SavePng 133x133: {clock.Elapsed.TotalMilliseconds / n:F1} ms per image after warm-up");
        Assert.That(File.Exists(Path.Combine(dir, "cos-fc-0.png")), Is.True);
    }
}
