using System.Globalization;
using System.Xml.Linq;
using ShiftBench.Report;
using SixLabors.ImageSharp;

namespace ShiftBench.Tests;

[Category(TestTier.Fast)]
public class FigureTests
{
    static readonly string[] Layers = ["pool", "fc", "class"];

    static XDocument LoadSvg(string path) => XDocument.Load(path);
    static IEnumerable<XElement> Named(XDocument svg, string name) => svg.Descendants().Where(e => e.Name.LocalName == name);
    /// <summary>Distinct embedded bitmaps (Skia may emit one bitmap more than once).</summary>
    static int Bitmaps(XDocument svg) =>
        Named(svg, "image").Select(i => i.Attributes().First(a => a.Name.LocalName == "href").Value).Distinct().Count();
    static List<string> Texts(XDocument svg) => Named(svg, "text").Select(t => t.Value.Trim()).Where(t => t != "").ToList();
    static List<double> Numbers(XDocument svg) =>
        Texts(svg).Select(t => double.TryParse(t.Replace('−', '-'), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN)
            .Where(v => !double.IsNaN(v)).ToList();

    static double MinOf(string csvPath, int rows, int cols, int stride)
    {
        var grid = RunFolder.ReadGrid(csvPath, rows, cols, stride);
        return grid.Cast<double>().Min();
    }

    [Test]
    public void PairSvgHasTwoHeatmapsOneColourBarAndTitlesFromTheRun()
    {
        string outDir = SyntheticRuns.NewOutDir();
        string tv = SyntheticRuns.Write(outDir, "berry", "resnet50", "torchvision", 9, 9, 4, Layers, seed: 1);
        string aa = SyntheticRuns.Write(outDir, "berry", "resnet50", "antialiased", 9, 9, 4, Layers, seed: 2);
        string svgPath = Path.Combine(outDir, "pair.svg");

        var written = FigureJobs.Pair(outDir, "resnet50", "berry", "fc", "br", svgPath);

        Assert.That(written, Is.EqualTo(new[] { svgPath }));
        var svg = LoadSvg(svgPath);
        // Each heatmap and the colour bar are one embedded bitmap each.
        Assert.That(Bitmaps(svg), Is.EqualTo(3));
        var texts = Texts(svg);
        Assert.That(texts, Does.Contain("torchvision").And.Contain("antialiased"));
        Assert.That(texts, Has.Some.Contains("resnet50").And.Some.Contains("fc").And.Some.Contains("(32, 32)"), "title names the model, layer and anchor position from run.json");
        Assert.That(texts, Does.Contain("x shift (px)").And.Contain("y shift (px)").And.Contain("cosine similarity"));
        // Default colour range: the lower data minimum of both grids (floored to 0.01) up to 1.
        double dataMin = Math.Min(MinOf(Path.Combine(tv, "cos-fc-br.csv"), 9, 9, 4), MinOf(Path.Combine(aa, "cos-fc-br.csv"), 9, 9, 4));
        var numbers = Numbers(svg);
        var axisTicks = numbers.Where(v => v > 1).ToList();
        Assert.That(axisTicks.Max(), Is.GreaterThan(16).And.LessThanOrEqualTo(34), "axes in pixels of shift: last shift is 8 x stride 4 = 32");
        var colourTicks = numbers.Where(v => v is > 0 and <= 1).ToList();
        Assert.That(colourTicks, Is.Not.Empty);
        Assert.That(colourTicks.Min(), Is.GreaterThanOrEqualTo(Math.Floor(dataMin * 100) / 100 - 1e-9));
    }

    [Test]
    public void PairTakesAnyVariantsOnePanelEach()
    {
        string outDir = SyntheticRuns.NewOutDir();
        foreach (var (variant, seed) in new[] { ("torchvision", 1), ("antialiased-lpf2", 2), ("antialiased-lpf4-finetune", 3) })
            SyntheticRuns.Write(outDir, "berry", "resnet50", variant, 9, 9, 4, Layers, seed: seed);
        string svgPath = Path.Combine(outDir, "three.svg");

        FigureJobs.Pair(outDir, "resnet50", "berry", "fc", "br", svgPath, variants: ["torchvision", "antialiased-lpf2", "antialiased-lpf4-finetune"]);

        var svg = LoadSvg(svgPath);
        Assert.That(Bitmaps(svg), Is.EqualTo(4), "three heatmaps and the colour bar");
        Assert.That(Texts(svg), Does.Contain("antialiased-lpf2").And.Contain("antialiased-lpf4-finetune").And.Contain("torchvision"));
    }

    [Test]
    public void PairWithAMissingVariantShowsNotRun()
    {
        string outDir = SyntheticRuns.NewOutDir();
        SyntheticRuns.Write(outDir, "berry", "alexnet", "torchvision", 6, 6, 5, ["fc6", "class"]);
        string svgPath = Path.Combine(outDir, "pair.svg");

        FigureJobs.Pair(outDir, "alexnet", "berry", "class", null, svgPath);

        var svg = LoadSvg(svgPath);
        Assert.That(Texts(svg), Does.Contain("not run").And.Contain("class probability"));
        Assert.That(Bitmaps(svg), Is.EqualTo(2), "one heatmap and the colour bar");
    }

    [Test]
    public void GridHasOnePanelPerModelAndAnchorWithRowAndColumnLabels()
    {
        string outDir = SyntheticRuns.NewOutDir();
        string[] models = ["alexnet", "resnet50", "vgg16"];
        for (int i = 0; i < models.Length; i++)
            SyntheticRuns.Write(outDir, "plane", models[i], "torchvision", 7, 7, 22, Layers, seed: i + 3);
        string svgPath = Path.Combine(outDir, "grid.svg");

        FigureJobs.Grid(outDir, "plane", "fc", models: null, anchors: null, variant: "torchvision", svgPath, vmin: 0.5);

        var svg = LoadSvg(svgPath);
        Assert.That(Bitmaps(svg), Is.EqualTo(models.Length * 5 + 1), "15 heatmaps and one shared colour bar");
        var texts = Texts(svg);
        foreach (var m in models)
            Assert.That(texts, Has.Some.Contains(m), m);
        foreach (var a in SyntheticRuns.StudyAnchors)
            Assert.That(texts, Has.Some.StartsWith($"anchor {a} "), a);
        Assert.That(texts, Has.Some.Contains("(66, 66)"), "centre anchor position from run.json");
        var colourTicks = Numbers(svg).Where(v => v is > 0 and <= 1).ToList();
        Assert.That(colourTicks.Min(), Is.GreaterThanOrEqualTo(0.5).And.LessThanOrEqualTo(0.6), "--vmin 0.5 sets the colour bar's bottom");
        Assert.That(colourTicks.Max(), Is.EqualTo(1.0).Within(1e-9));
    }

    [Test]
    public void GridPngGrowsWithTheNumberOfModelsAndDefaultsToPngAndSvg()
    {
        string outDir = SyntheticRuns.NewOutDir();
        SyntheticRuns.Write(outDir, "berry", "alexnet", "antialiased", 5, 5, 31, Layers);
        SyntheticRuns.Write(outDir, "berry", "resnet50", "antialiased", 5, 5, 31, Layers);

        var one = FigureJobs.Grid(outDir, "berry", "pool", ["resnet50"], ["tl", "c"], "antialiased", Path.Combine(outDir, "one.png"));
        var defaults = FigureJobs.Grid(outDir, "berry", "pool", null, ["tl", "c"], "antialiased", outFile: null);

        Assert.That(defaults.Select(Path.GetExtension), Is.EquivalentTo(new[] { ".png", ".svg" }));
        Assert.That(defaults.All(File.Exists), Is.True);
        var small = Image.Identify(one[0]);
        var big = Image.Identify(defaults.Single(p => p.EndsWith(".png")));
        Assert.That(big.Width, Is.EqualTo(small.Width), "same two anchor columns");
        Assert.That(big.Height, Is.GreaterThan(small.Height * 1.7), "two model rows instead of one");
    }

    [Test]
    public void UnknownModelOrAnchorIsAUserErrorNamingTheOption()
    {
        string outDir = SyntheticRuns.NewOutDir();
        SyntheticRuns.Write(outDir, "berry", "resnet50", "torchvision", 5, 5, 31, Layers, anchors: ["tl", "c"]);

        var model = Assert.Throws<ShiftBenchException>(() => FigureJobs.Pair(outDir, "vgg99", "berry", "fc", "tl", null));
        var anchor = Assert.Throws<ShiftBenchException>(() => FigureJobs.Pair(outDir, "resnet50", "berry", "fc", "br", null));
        var dataset = Assert.Throws<ShiftBenchException>(() => FigureJobs.Grid(outDir, "plane", "fc", null, null, "torchvision", null));

        Assert.That(model!.Message, Does.Contain("--model").And.Contain("resnet50"));
        Assert.That(anchor!.Message, Does.Contain("--anchor").And.Contain("tl, c"));
        Assert.That(dataset!.Message, Does.Contain("--dataset").And.Contain("berry"));
    }

    [Test]
    public void FigureCommandWritesTheFileAndExitsTwoOnAUserError()
    {
        string outDir = SyntheticRuns.NewOutDir();
        SyntheticRuns.Write(outDir, "berry", "resnet50", "torchvision", 5, 5, 31, Layers);
        string png = Path.Combine(outDir, "cli.png");

        int ok = Cli(["figure", "pair", outDir, "--model", "resnet50", "--dataset", "berry", "--layer", "fc", "--anchor", "c", "--out", png]);
        int bad = Cli(["figure", "grid", outDir, "--dataset", "berry", "--layer", "nope"]);

        Assert.That(ok, Is.Zero);
        Assert.That(Image.Identify(png).Width, Is.GreaterThan(1000), "2x PNG for print");
        Assert.That(bad, Is.EqualTo(2));
    }

    internal static int Cli(string[] args)
    {
        var root = new System.CommandLine.RootCommand();
        foreach (var c in ShiftBench.Cli.Commands.CommandCatalog.All()) root.Subcommands.Add(c);
        return root.Parse(args).Invoke();
    }
}
