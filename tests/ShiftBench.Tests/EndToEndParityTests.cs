using ShiftBench.Analysis;
using ShiftBench.Datasets;
using ShiftBench.Models;
using ShiftBench.Output;
using ShiftBench.Runs;

namespace ShiftBench.Tests;

/// <summary>
/// A whole `run` at a coarse stride against grids PyTorch computed for the same synthetic weights and
/// the same images (tools/fixtures/make_run_fixtures.py): datasets, hooks, cosine and class grids.
/// </summary>
public class EndToEndParityTests
{
    [TestCase("berry", "alexnet", 31, new[] { "fc7", "pool" })]
    [TestCase("plane", "resnet50", 44, new[] { "pool" })]
    public void RunGridsMatchPyTorch(string dataset, string model, int stride, string[] layers)
    {
        using var dir = TestPaths.NewTempDir();
        var result = ExperimentRunner.Run(new RunRequest
        {
            Model = ModelRegistry.Find(model, ModelVariant.Torchvision),
            Dataset = DatasetCatalog.Resolve(dataset),
            DataDir = TestPaths.DataDir,
            Weights = WeightsSource.Deterministic(),
            Layers = [.. layers, "class"],
            Stride = stride,
            BatchSize = 8,
            OutRoot = dir,
        });
        string expected = TestPaths.Fixture("run", $"{dataset}-{model}");

        foreach (var layer in layers)
            foreach (var anchor in Anchors.Named)
            {
                string file = $"cos-{layer}-{anchor}.csv";
                var (want, wantOffsets) = GridCsv.Read(Path.Combine(expected, file));
                var (got, gotOffsets) = GridCsv.Read(Path.Combine(result.RunDirectory, file));
                Assert.That(gotOffsets, Is.EqualTo(wantOffsets), file);
                Assert.That(MaxAbsDifference(got, want), Is.LessThan(1e-5), file);
                Assert.That(Spread(want), Is.GreaterThan(1e-4), $"{file}: the reference grid is not flat");
            }

        var (wantClass, _) = GridCsv.Read(Path.Combine(expected, "class.csv"));
        var (gotClass, _) = GridCsv.Read(Path.Combine(result.RunDirectory, "class.csv"));
        Assert.That(MaxAbsDifference(gotClass, wantClass) / wantClass.Cast<double>().Max(), Is.LessThan(1e-4), "class probability, relative");
        var wantTop1 = File.ReadAllText(Path.Combine(expected, "top1.txt")).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(long.Parse);
        Assert.That(Npy.ReadInt64(Path.Combine(result.RunDirectory, "top1.npy")).Data, Is.EqualTo(wantTop1));
    }

    static double MaxAbsDifference(double[,] a, double[,] b) =>
        a.Cast<double>().Zip(b.Cast<double>()).Max(p => Math.Abs(p.First - p.Second));

    static double Spread(double[,] grid) => grid.Cast<double>().Max() - grid.Cast<double>().Min();
}
