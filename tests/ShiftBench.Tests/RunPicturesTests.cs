using ShiftBench.Datasets;
using ShiftBench.Models;
using ShiftBench.Output;
using ShiftBench.Report;
using ShiftBench.Runs;

namespace ShiftBench.Tests;

/// <summary>
/// The engine writes grids and does not draw: the request's IRunPictures (Report.RunHeatmaps for the CLI) draws each
/// picture from the staged CSV, which must therefore hold every value exactly.
/// </summary>
[Category(TestTier.Fast)]
public class RunPicturesTests
{
    [Test]
    public void GridCsvGivesBackEveryDoubleBitForBit()
    {
        var random = new Random(7);
        double[] special = [0.0, -0.0, double.Epsilon, -double.Epsilon, double.MaxValue, double.MinValue, 1.0 / 3, 0.1, 1 - 1e-16,
            double.PositiveInfinity, double.NegativeInfinity, double.NaN];
        const int n = 40;
        var grid = new double[n, n];
        for (int i = 0; i < n * n; i++)
            grid[i / n, i % n] = i < special.Length ? special[i]
                : i % 2 == 0 ? BitConverter.Int64BitsToDouble(random.NextInt64()) is var d && double.IsFinite(d) ? d : random.NextDouble()
                : random.NextDouble() * 2 - 1;
        using var dir = TestPaths.NewTempDir();
        string path = Path.Combine(dir, "g.csv");
        GridCsv.Write(path, grid, [.. Enumerable.Range(0, n).Select(i => i * 3)]);
        var (back, offsets) = GridCsv.Read(path);
        Assert.That(offsets, Is.EqualTo(Enumerable.Range(0, n).Select(i => i * 3)));
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++)
                Assert.That(BitConverter.DoubleToInt64Bits(back[r, c]), Is.EqualTo(BitConverter.DoubleToInt64Bits(grid[r, c])), $"({r}, {c}) = {grid[r, c]:R}");
    }

    /// <summary>Hands every staged grid to the pictures, from the staging folder, before run.json; records what it saw.</summary>
    sealed class Recorder : IRunPictures
    {
        public readonly List<(string Folder, string Stem, StagedGridKind Kind, bool CsvThere, bool RunJsonThere)> Seen = [];
        public double? CheckedMinimum;
        public void CheckMinimum(double? vmin) => CheckedMinimum = vmin;
        public void Draw(StagedGrids run) => Seen.AddRange(run.Grids.Select(g => (run.Folder, g.Stem, g.Kind,
            File.Exists(Path.Combine(run.Folder, RunLayout.Csv(g.Stem))), File.Exists(Path.Combine(run.Folder, RunLayout.RunJson)))));
    }

    [Test]
    public void TheRunHandsItsStagedGridsToThePicturesAndDrawsNothingItself()
    {
        using var dir = TestPaths.NewTempDir();
        var recorder = new Recorder();
        var requests = RunRequestBuilder.Build(new RunChoices
        {
            Model = "alexnet", Variant = "torchvision", Weights = WeightsSource.DeterministicName, Dataset = "berry", Stride = 62,
            Layers = ["fc7", "class"], Anchors = ["tl", "c"], Out = dir, DataDir = TestPaths.DataDir, Vmin = 0.25, Pictures = recorder,
        });
        Assert.That(recorder.CheckedMinimum, Is.EqualTo(0.25), "--vmin is checked by the pictures before the run");
        var result = ExperimentRunner.Run(requests.Single());

        Assert.That(recorder.Seen.Select(s => (s.Stem, s.Kind)), Is.EqualTo(new[]
        {
            (RunLayout.CosineStem("fc7", "tl"), StagedGridKind.Cosine), (RunLayout.CosineStem("fc7", "c"), StagedGridKind.Cosine),
            (RunLayout.ClassStem, StagedGridKind.Class),
        }));
        Assert.That(recorder.Seen.All(s => s.CsvThere && !s.RunJsonThere), "drawn from the staged CSVs, before run.json");
        Assert.That(recorder.Seen.Select(s => Path.GetFullPath(s.Folder)).Distinct().Single(), Is.Not.EqualTo(Path.GetFullPath(result.RunDirectory)),
            "drawn in the job's staging folder, committed with the grids");
        Assert.That(Directory.GetFiles(result.RunDirectory, "*.png"), Is.Empty, "the engine draws nothing itself");
        Assert.That(recorder.Seen.Where(s => !File.Exists(Path.Combine(result.RunDirectory, RunLayout.Csv(s.Stem)))), Is.Empty, "committed grids");
    }

    [Test]
    public void RunHeatmapsDrawsTheHeatmapOfEachStagedGrid()
    {
        using var dir = TestPaths.NewTempDir();
        var grid = new double[,] { { 1.0, 0.5 }, { 0.25, 0.75 } };
        GridCsv.Write(Path.Combine(dir, "cos-fc7-c.csv"), grid, [0, 62]);
        var request = new RunRequest
        {
            Model = ModelRegistry.Find("alexnet", ModelVariant.Torchvision), Dataset = DatasetCatalog.Resolve("berry"), DataDir = TestPaths.DataDir,
            Weights = WeightsSource.Deterministic(),
        };
        RunHeatmaps.Instance.Draw(new StagedGrids(dir, request, 62, [new StagedGrid("cos-fc7-c", StagedGridKind.Cosine, "fc7", "c")]));
        string expected = Path.Combine(dir, "expected.png");
        Heatmap.SavePng(expected, grid, 62, 0.25, 1.0, "alexnet (torchvision) fc7 anchor c - berry");
        Assert.That(File.ReadAllBytes(Path.Combine(dir, "cos-fc7-c.png")), Is.EqualTo(File.ReadAllBytes(expected)));
        Assert.That(() => RunHeatmaps.Instance.CheckMinimum(1.5), Throws.TypeOf<ShiftBenchException>().With.Message.Contains("--vmin"));
    }
}
