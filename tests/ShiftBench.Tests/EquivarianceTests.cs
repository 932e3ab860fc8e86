using System.Text.Json.Nodes;
using ShiftBench.Analysis;
using ShiftBench.Output;

namespace ShiftBench.Tests;

[Category(TestTier.Fast)]
public class EquivarianceTests
{
    /// <summary>Every case of Fixtures/equivariance/equivariance.json, made by NumPy (tools/fixtures/make_equivariance_fixtures.py).</summary>
    static IEnumerable<TestCaseData> Cases() =>
        JsonNode.Parse(File.ReadAllText(TestPaths.Fixture("equivariance", "equivariance.json")))!["cases"]!.AsArray()
            .Select(c => new TestCaseData(c!.ToJsonString()).SetName("Equivariance_" + c!["name"]!.GetValue<string>()));

    [TestCaseSource(nameof(Cases))]
    public void GridEqualsNumPy(string caseJson)
    {
        var c = JsonNode.Parse(caseJson)!;
        var offsets = c["offsets"]!.AsArray().Select(o => o!.GetValue<int>()).ToArray();
        var anchor = c["anchor"]!.AsArray().Select(o => o!.GetValue<int>()).ToArray();
        var shape = new MapShape(c["channels"]!.GetValue<int>(), c["height"]!.GetValue<int>(), c["width"]!.GetValue<int>());
        var grid = Equivariance.Grid(TestPaths.Fixture("equivariance", c["features"]!.GetValue<string>()), offsets.Length, offsets.Length,
            offsets, c["unit"]!.GetValue<double>(), anchor[0], anchor[1], shape, c["stride"]!.GetValue<int>(),
            c["direction"]!.GetValue<int>(), c["circular"]!.GetValue<bool>());
        var expected = c["grid"]!.AsArray();
        int compared = 0;
        for (int r = 0; r < offsets.Length; r++)
            for (int col = 0; col < offsets.Length; col++)
            {
                var e = expected[r]![col];
                if (e is null) { Assert.That(grid[r, col], Is.NaN, $"({r},{col}) is not a whole-cell shift"); continue; }
                Assert.That(grid[r, col], Is.EqualTo(e.GetValue<double>()).Within(1e-9), $"({r},{col})");
                compared++;
            }
        Assert.That(compared, Is.GreaterThan(1), "the case compares the anchor and at least one shift");
    }

    [Test]
    public void ExactlyEquivariantMapsHaveZeroDistanceAndTheMeanSkipsTheAnchor()
    {
        var grid = new double[,] { { 0.5, double.NaN }, { 0.0, 0.25 } };
        Assert.That(Equivariance.Mean(grid, 1, 0), Is.EqualTo(0.375));
        Assert.That(Equivariance.Mean(new double[,] { { 0.0 } }, 0, 0), Is.NaN);
    }

    [TestCase(224, 55, 4)]
    [TestCase(224, 27, 8)]
    [TestCase(224, 13, 16)]
    [TestCase(224, 7, 32)]
    [TestCase(224, 224, 1)]
    [TestCase(224, 112, 2)]
    public void CellStrideIsTheNearestPowerOfTwo(int input, int height, int stride) =>
        Assert.That(Equivariance.CellStride(input, height), Is.EqualTo(stride));

    [Test]
    public void RollingAMapByWholeCellsIsDistanceZeroAndOffByOneIsNot()
    {
        var rng = new Random(7);
        var shape = new MapShape(2, 4, 5);
        var anchor = Enumerable.Range(0, shape.Length).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var rolled = new float[shape.Length];
        for (int ch = 0; ch < 2; ch++)
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 5; j++)
                    rolled[ch * 20 + ((i + 1) % 4) * 5 + (j + 3) % 5] = anchor[ch * 20 + i * 5 + j];
        Assert.That(Equivariance.Distance(anchor, rolled, shape, 1, 3, circular: true), Is.EqualTo(0).Within(1e-12));
        Assert.That(Equivariance.Distance(anchor, rolled, shape, 1, 2, circular: true), Is.GreaterThan(1e-3));
    }
}

/// <summary>
/// `run --layers stages@map` on real runs (ResNet-18, deterministic weights, 5x5 grid of 64x64 crops 4 px apart): equivariance grids,
/// summary, and the depth profile of it.
/// </summary>
[NonParallelizable]
public class EquivarianceRunTests
{
    TestPaths.TempDir dir = null!;
    string outDir = "";
    static readonly string[] MapLayers = ["maxpool@map", "layer1@map", "layer2@map", "layer3@map", "layer4@map"];

    [OneTimeSetUp]
    public void RunMapStages()
    {
        dir = TestPaths.NewTempDir();
        outDir = Path.Combine(dir.Path, "out");
        string dataset = ModuleLayerTests.TinyDataset(dir.Path, stride: 4);
        foreach (var request in Runs.RunRequestBuilder.Build(new Runs.RunChoices
                 {
                     Model = "resnet18", Dataset = dataset, Variant = "both", Layers = ["stages@map"], Weights = "deterministic",
                     DataDir = TestPaths.DataDir, Out = outDir, BatchSize = 25, Anchors = ["c", "tl"], Features = "fp32", Pictures = Report.RunHeatmaps.Instance,
                 }))
            Assert.That(Runs.ExperimentRunner.Run(request).Complete, Is.True);
    }

    [OneTimeTearDown]
    public void Clean() => dir.Dispose();

    string Run(string variant) => Path.Combine(outDir, "tiny", "resnet18", variant);

    [Test]
    public void GridsCompareExactlyTheWholeCellShifts()
    {
        string run = Run("antialiased");
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(run, RunLayout.RunJson)))!;
        Assert.That(json["layers"]!.AsArray().Select(l => l!.GetValue<string>()), Is.EqualTo(MapLayers));
        foreach (var layer in MapLayers)
        {
            int height = json["modules"]![layer]!["shape"]![1]!.GetValue<int>();
            int cell = Equivariance.CellStride(64, height);
            var (grid, offsets) = GridCsv.Read(Path.Combine(run, $"equiv-{layer}-c.csv"));
            Assert.That(offsets, Is.EqualTo(new[] { 0, 4, 8, 12, 16 }));
            for (int r = 0; r < 5; r++)
                for (int c = 0; c < 5; c++)
                {
                    bool whole = (offsets[r] - 8) % cell == 0 && (offsets[c] - 8) % cell == 0;
                    Assert.That(double.IsNaN(grid[r, c]), Is.EqualTo(!whole), $"{layer} ({r},{c}) cell {cell}");
                }
            Assert.That(grid[2, 2], Is.EqualTo(0).Within(1e-6), "the anchor against itself");
            Assert.That(File.Exists(Path.Combine(run, $"equiv-{layer}-tl.png")));
        }
    }

    [Test]
    public void ContentMovesAgainstTheCropWindow()
    {
        // Real maps of shifted crops agree with the anchor's map moved the other way (direction -1), not the same way.
        string run = Run("torchvision");
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(run, RunLayout.RunJson)))!;
        var shape = json["modules"]!["maxpool@map"]!["shape"]!.AsArray().Select(d => d!.GetValue<int>()).ToArray();
        var map = new MapShape(shape[0], shape[1], shape[2]);
        int[] offsets = [0, 4, 8, 12, 16];
        double MeanFor(int direction) => Equivariance.Mean(Equivariance.Grid(Path.Combine(run, "features-maxpool@map.npy"), 5, 5, offsets, 1.0,
            2, 2, map, 4, direction, circular: false), 2, 2);
        double right = MeanFor(-1), wrong = MeanFor(+1);
        Assert.That(right, Is.LessThan(wrong / 3), $"crop direction {right}, patch direction {wrong}");
        Assert.That(GridCsv.Read(Path.Combine(run, "equiv-maxpool@map-c.csv")).Grid[1, 3],
            Is.EqualTo(Equivariance.Grid(Path.Combine(run, "features-maxpool@map.npy"), 5, 5, offsets, 1.0, 2, 2, map, 4, -1, false)[1, 3]));
    }

    [Test]
    public void SummaryAndDepthProfileCarryTheMetric()
    {
        foreach (var variant in new[] { "torchvision", "antialiased" })
        {
            var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(Run(variant), RunLayout.SummaryJson)))!;
            foreach (var layer in MapLayers.Take(4))
            {
                var node = summary["layers"]![layer]!;
                double c = Equivariance.Mean(GridCsv.Read(Path.Combine(Run(variant), $"equiv-{layer}-c.csv")).Grid, 2, 2);
                double tl = Equivariance.Mean(GridCsv.Read(Path.Combine(Run(variant), $"equiv-{layer}-tl.csv")).Grid, 0, 0);
                // layer3 has 16 px cells: seen from the centre (8 px) no other position is a whole-cell shift.
                var defined = new[] { c, tl }.Where(double.IsFinite).ToArray();
                Assert.That(defined, Has.Length.EqualTo(layer == "layer3@map" ? 1 : 2), layer);
                Assert.That(node[Equivariance.Metric]!.GetValue<double>(), Is.EqualTo(defined.Average()).Within(1e-15));
                Assert.That(tl, Is.GreaterThan(0), $"{variant} {layer}: shifted crops are not exactly equivariant (borders)");
                if (double.IsFinite(c)) Assert.That(node["anchors"]!["c"]!["equivariance"]!.GetValue<double>(), Is.EqualTo(c));
                else Assert.That(node["anchors"]!["c"]!["equivariance"], Is.Null);
            }
            // layer4 is 2x2 cells of 32 px: only the anchor itself is a whole-cell shift, so there is nothing to average.
            Assert.That(summary["layers"]!["layer4@map"]![Equivariance.Metric], Is.Null);
        }
        var profile = DepthProfile.Collect(outDir, "resnet18", "tiny", Equivariance.Metric);
        Assert.That(profile.Stages, Is.EqualTo(new[] { "stem", "layer1", "layer2", "layer3", "layer4" }));
        Assert.That(profile.Variants, Is.EqualTo(new[] { "torchvision", "antialiased" }));
        Assert.That(profile.Value("layer2", "antialiased"),
            Is.EqualTo(JsonNode.Parse(File.ReadAllText(Path.Combine(Run("antialiased"), RunLayout.SummaryJson)))!["layers"]!["layer2@map"]![Equivariance.Metric]!.GetValue<double>()));

        var r = TestCli.Run("figure", "profile", outDir, "--model", "resnet18", "--dataset", "tiny", "--metric", Equivariance.Metric);
        Assert.That(r.Code, Is.EqualTo(0), r.Stderr);
        Assert.That(File.Exists(Path.Combine(outDir, "figures", "profile-tiny-resnet18-equivariance.svg")));
    }

    [Test]
    public void ReportEmbedsTheEquivarianceProfile()
    {
        Report.ReportBuilder.Build(outDir, [TestPaths.DataDir]);
        string html = File.ReadAllText(Path.Combine(outDir, Report.ReportBuilder.FileName));
        const string open = "<script id=\"shiftbench-data\" type=\"application/json\">";
        int start = html.IndexOf(open) + open.Length;
        var data = JsonNode.Parse(html[start..html.IndexOf("</script>", start)])!;
        var profile = data["profiles"]!.AsArray().Single(p => p!["metric"]!.GetValue<string>() == Equivariance.Metric)!;
        Assert.That(profile["stages"]!.AsArray().Select(s => s!.GetValue<string>()), Is.EqualTo(new[] { "stem", "layer1", "layer2", "layer3", "layer4" }));
        Assert.That(profile["values"]!["torchvision"]!.AsArray()[1]!.GetValue<double>(),
            Is.EqualTo(JsonNode.Parse(File.ReadAllText(Path.Combine(Run("torchvision"), RunLayout.SummaryJson)))!["layers"]!["layer1@map"]![Equivariance.Metric]!.GetValue<double>()));
        Assert.That(profile["values"]!["torchvision"]!.AsArray()[4], Is.Null, "layer4 has no whole-cell shift to compare");
        Assert.That(html, Does.Contain("id=\"profile-equivariance-svg\""));
    }
}
