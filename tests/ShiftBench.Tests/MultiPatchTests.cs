using ShiftBench.Datasets;
using ShiftBench.Models;
using ShiftBench.Output;
using ShiftBench.Runs;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ShiftBench.Tests;

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

    [Test]
    public void MeanGridEqualsTheMeanOfSinglePatchRuns()
    {
        using var data = TestPaths.NewTempDir();
        using var outRoot = TestPaths.NewTempDir();
        Directory.CreateDirectory(Path.Combine(data, "discs"));
        DrawPatch(Path.Combine(data, "discs", "a-red.png"), new Rgba32(220, 30, 30, 255), 80);
        DrawPatch(Path.Combine(data, "discs", "b-green.png"), new Rgba32(30, 200, 60, 255), 64);
        DrawPatch(Path.Combine(data, "discs", "c-blue.png"), new Rgba32(20, 40, 230, 255), 100);
        File.WriteAllText(Path.Combine(data, "classes.csv"), "file,class\nb-green.png,951\n");
        var config = DatasetConfig.Parse(
            "name: discs\nkind: patches\ntarget_class: 949\ncanvas: {size: 224}\npatches: {folder: discs, size: 100, classes: classes.csv}\nstride: 62\n", "discs.yaml");
        var model = ModelRegistry.Find("alexnet", ModelVariant.Torchvision);
        RunRequest Request(DatasetConfig dataset, string outDir) => new()
        {
            Model = model, Dataset = dataset, DataDir = data, Weights = WeightsSource.Deterministic(),
            Layers = ["fc7", "class"], AnchorSpecs = ["tl", "c"], BatchSize = 9, OutRoot = outDir,
        };

        var multi = ExperimentRunner.Run(Request(config, outRoot));

        var singles = config.ExpandPatches(data);
        Assert.That(singles.Select(s => (s.Name, s.TargetClass)), Is.EqualTo(new (string, int?)[] { ("a-red", 949), ("b-green", 951), ("c-blue", 949) }));
        foreach (var stem in new[] { "cos-fc7-tl", "cos-fc7-c", "class" })
        {
            var grids = singles.Select(s =>
            {
                using var own = TestPaths.NewTempDir();
                var single = ExperimentRunner.Run(Request(s, own));
                return GridCsv.Read(Path.Combine(single.RunDirectory, stem + ".csv")).Grid;
            }).ToList();
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
            Assert.That(grids.Select(g => g[1, 1]).Distinct().Count(), Is.GreaterThan(1), "patches give different grids");
        }
        Assert.That(ExperimentRunner.ReadRunJson(multi.RunDirectory)!["patches"]!.AsArray(), Has.Count.EqualTo(3));
    }
}
