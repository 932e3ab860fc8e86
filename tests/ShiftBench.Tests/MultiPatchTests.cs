using ShiftBench.Analysis;
using ShiftBench.Datasets;
using ShiftBench.Models;
using ShiftBench.Output;
using ShiftBench.Runs;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ShiftBench.Tests;

[Category(TestTier.Fast)]
public class MultiPatchTests
{
    /// <summary>Draws a soft-edged disc of one colour on a transparent square.</summary>
    static void DrawPatch(string path, Rgba32 colour, int size)
    {
        using var image = new Image<Rgba32>(size, size);
        double centre = (size - 1) / 2.0;
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                double d = Math.Sqrt((x - centre) * (x - centre) + (y - centre) * (y - centre)) / (size / 2.0);
                image[x, y] = colour with { A = (byte)Math.Clamp(255 * (1.2 - d) / 0.4, 0, 255) };
            }
        image.SaveAsPng(path);
    }

    TestPaths.TempDir data = null!, outRoot = null!;
    DatasetConfig config = null!;
    RunResult multi = null!;

    RunRequest Request(DatasetConfig dataset, string outDir) => new()
    {
        Model = ModelRegistry.Find("alexnet", ModelVariant.Torchvision), Dataset = dataset, DataDir = data, Weights = WeightsSource.Deterministic(),
        Layers = ["fc7", "class"], AnchorSpecs = ["tl", "c"], BatchSize = 9, OutRoot = outDir, Pictures = Report.RunHeatmaps.Instance,
    };

    /// <summary>One `patches` run of three drawn discs (stride 62), shared by the tests below.</summary>
    [OneTimeSetUp]
    public void RunThreePatches()
    {
        data = TestPaths.NewTempDir();
        outRoot = TestPaths.NewTempDir();
        Directory.CreateDirectory(Path.Combine(data, "discs"));
        DrawPatch(Path.Combine(data, "discs", "a-red.png"), new Rgba32(220, 30, 30, 255), 80);
        DrawPatch(Path.Combine(data, "discs", "b-green.png"), new Rgba32(30, 200, 60, 255), 64);
        DrawPatch(Path.Combine(data, "discs", "c-blue.png"), new Rgba32(20, 40, 230, 255), 100);
        File.WriteAllText(Path.Combine(data, "classes.csv"), "file,class\nb-green.png,951\n");
        config = DatasetConfig.Parse(
            "name: discs\nkind: patches\ntarget_class: 949\ncanvas: {size: 224}\npatches: {folder: discs, size: 100, classes: classes.csv}\nstride: 62\n", "discs.yaml");
        multi = ExperimentRunner.Run(Request(config, outRoot));
    }

    [OneTimeTearDown]
    public void RemoveFolders()
    {
        data.Dispose();
        outRoot.Dispose();
    }

    [Test]
    public void MeanGridEqualsTheMeanOfSinglePatchRuns()
    {

        var singles = config.ExpandPatches(data);
        Assert.That(singles.Select(s => (s.Name, s.TargetClass)), Is.EqualTo(new (string, int?)[] { ("a-red", 949), ("b-green", 951), ("c-blue", 949) }));
        // Each patch run once (its own dataset name, so its own folder), read for every grid.
        using var own = TestPaths.NewTempDir();
        var singleRuns = singles.Select(s => ExperimentRunner.Run(Request(s, own)).RunDirectory).ToList();
        Assert.That(singleRuns, Is.Unique);
        foreach (var stem in new[] { "cos-fc7-tl", "cos-fc7-c", "class" })
        {
            var grids = singleRuns.Select(run => GridCsv.Read(Path.Combine(run, stem + ".csv")).Grid).ToList();
            var (mean, offsets) = GridCsv.Read(Path.Combine(multi.RunDirectory, stem + ".csv"));
            var (std, _) = GridCsv.Read(Path.Combine(multi.RunDirectory, stem + "-std.csv"));
            Assert.That(offsets, Is.EqualTo(new[] { 0, 62, 124 }));
            for (int r = 0; r < 3; r++)
                for (int c = 0; c < 3; c++)
                {
                    var values = grids.Select(g => g[r, c]).ToArray();
                    double m = values.Average();
                    Assert.That(mean[r, c], Is.EqualTo(m).Within(1e-12), $"{stem} mean at {r},{c}");
                    Assert.That(std[r, c], Is.EqualTo(Math.Sqrt(values.Average(v => (v - m) * (v - m)))).Within(1e-12), $"{stem} std at {r},{c}");
                }
            // At a position that is no anchor: at its own anchor every cosine is exactly 1 (clamped; CosineGrids.Clamp).
            Assert.That(grids.Select(g => g[0, 2]).Distinct().Count(), Is.GreaterThan(1), "patches give different grids");
        }
        Assert.That(RunRecord.Read(multi.RunDirectory)!.Patches, Has.Count.EqualTo(3));
    }

    [Test]
    public void ReportCoversAPatchesRunAndEachPatchRun()
    {
        var result = Report.ReportBuilder.Build(outRoot, [data.Path]);
        string html = File.ReadAllText(result.Path);
        var json = System.Text.Json.Nodes.JsonNode.Parse(html[(html.IndexOf("{\"lut\"", StringComparison.Ordinal))..html.IndexOf("</script>", html.IndexOf("{\"lut\"", StringComparison.Ordinal), StringComparison.Ordinal)].Trim().TrimEnd(';'))!;
        Assert.That(json["datasets"]!["discs"]!["kind"]!.GetValue<string>(), Is.EqualTo("patches"));
        Assert.That(json["datasets"]!["discs"]!["source"], Is.Null, "a mean over patches has no single image");
        foreach (var patch in new[] { "a-red", "b-green", "c-blue" })
            Assert.That(json["datasets"]![patch]!["kind"]!.GetValue<string>(), Is.EqualTo("patch"), patch);
        var discs = json["runs"]!.AsArray().Single(r => r!["dataset"]!.GetValue<string>() == "discs")!;
        Assert.That(discs["grids"]!.AsArray().Select(g => g!["layer"]!.GetValue<string>()), Is.EquivalentTo(new[] { "fc7", "fc7", "class" }));
        Assert.That(result.Runs, Is.EqualTo(4), "the patches run and its three per-patch runs");
    }
}
