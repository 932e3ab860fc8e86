using ShiftBench.Report;

namespace ShiftBench.Tests;

[Category(TestTier.Fast)]
public class ReportRunFolderTests
{
    [Test]
    public void FindsCompleteRunsAndTheirGridsOnly()
    {
        string outDir = SyntheticRuns.NewOutDir();
        SyntheticRuns.Write(outDir, "berry", "resnet50", "torchvision", 4, 4, 10, ["pool", "fc", "class"], anchors: ["tl", "br"]);
        SyntheticRuns.Write(outDir, "berry", "resnet50", "antialiased", 4, 4, 10, ["fc"], complete: false);

        var runs = RunFolder.FindAll(outDir);

        Assert.That(runs.Select(r => r.Variant), Is.EqualTo(new[] { "torchvision" }));
        var run = runs[0];
        Assert.That(run.Grids.Select(g => $"{g.Layer}/{g.Anchor}"), Is.EquivalentTo(new[] { "pool/tl", "pool/br", "fc/tl", "fc/br", "class/" }));
        Assert.That(run.Anchors, Does.Contain(("br", 30, 30)));
        var grid = run.ReadGrid(run.Find("fc", "br")!);
        Assert.That(grid[3, 3], Is.EqualTo(1.0), "the anchor's own cell (y 30, x 30) is at row 3, column 3");
    }

    [Test]
    public void APositionOutsideTheGridIsAUserErrorNamingTheFile()
    {
        string path = Path.Combine(SyntheticRuns.NewOutDir(), "cos-fc-tl.csv");
        File.WriteAllText(path, "y,x,val\n0,0,1\n0,40,0.5\n");
        var e = Assert.Throws<ShiftBenchException>(() => RunFolder.ReadGrid(path, 4, 4, 10));
        Assert.That(e!.Message, Does.Contain(path).And.Contain("(0, 40)"));
    }

    [Test]
    public void QuantisedValuesStayWithinHalfAStepAndKeepMissingCells()
    {
        var grid = new double[,] { { 0.123456789, 0.9 }, { double.NaN, -0.3 } };
        var (codes, lo, step) = ReportBuilder.Quantize(grid);
        Assert.That(codes[2], Is.EqualTo(ReportBuilder.MissingCode));
        foreach (var (i, v) in new[] { (0, 0.123456789), (1, 0.9), (3, -0.3) })
            Assert.That(lo + codes[i] * step, Is.EqualTo(v).Within(step / 2 + 1e-12));
        Assert.That(step, Is.EqualTo(Math.Max(ReportBuilder.FinestStep, 1.2 / ReportBuilder.MaxCode)).Within(1e-15));
        Assert.That(ReportBuilder.FinestStep, Is.LessThanOrEqualTo(2e-5), "the page shows 4 decimals: the step must keep values within 1e-5");
    }
}
