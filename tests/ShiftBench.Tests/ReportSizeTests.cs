using ShiftBench.Models;
using ShiftBench.Report;

namespace ShiftBench.Tests;

/// <summary>
/// The study's page stays small enough to mail and open offline: all 16 runs of the study (4 networks x 2 variants x
/// 2 datasets, 133 x 133 positions, each network's named layers (the registry's) and every anchor) in one index.html. The real study's page was
/// 4.9 MiB (docs/performance.md); noisy synthetic grids compress worse, so the bound leaves room for that.
/// </summary>
public class ReportSizeTests
{
    static readonly string[] StudyNetworks = ["alexnet", "vgg16", "resnet50", "mobilenet_v2"];

    [Test]
    public void WholeStudyPageStaysUnder20MB()
    {
        string dataDir = SyntheticRuns.RequireData();
        string outDir = SyntheticRuns.NewOutDir();
        int seed = 0;
        foreach (var dataset in new[] { "berry", "plane" })
            foreach (var model in StudyNetworks)
                foreach (var variant in new[] { "torchvision", "antialiased" })
                    SyntheticRuns.Write(outDir, dataset, model, variant, 133, 133, 1, ModelRegistry.Find(model, variant).Layers, seed: ++seed, noise: 0.01);
        var result = ReportBuilder.Build(outDir, [dataDir]);
        TestContext.Out.WriteLine($"{result.Runs} runs, {result.Grids} grids of 133x133: {result.Bytes / 1048576.0:F2} MiB");
        Assert.Multiple(() =>
        {
            Assert.That(result.Runs, Is.EqualTo(16));
            Assert.That(result.Grids, Is.EqualTo(336));
            Assert.That(result.Bytes, Is.LessThan(20_000_000));
        });
        Directory.Delete(outDir, recursive: true);
    }
}
