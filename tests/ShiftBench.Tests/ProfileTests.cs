using System.Globalization;
using System.Text.Json.Nodes;
using ShiftBench.Analysis;
using ShiftBench.Output;
using ShiftBench.Report;
using ShiftBench.Runs;

namespace ShiftBench.Tests;

/// <summary>
/// `run --layers stages` and the depth profile (`figure profile`, report page) on real runs: ResNet-18 on a 3x3 grid
/// of 64x64 crops with deterministic weights, torchvision and antialiased.
/// </summary>
[NonParallelizable]
public class ProfileTests
{
    TestPaths.TempDir dir = null!;
    string outDir = "", dataset = "";

    [OneTimeSetUp]
    public void RunStages()
    {
        dir = TestPaths.NewTempDir();
        outDir = Path.Combine(dir.Path, "out");
        dataset = ModuleLayerTests.TinyDataset(dir.Path);
        foreach (var request in RunRequestBuilder.Build(new RunChoices
                 {
                     Model = "resnet18", Dataset = dataset, Variant = "both", Layers = ["stages"], Weights = "deterministic",
                     DataDir = TestPaths.DataDir, Out = outDir, BatchSize = 9,
                 }))
            Assert.That(ExperimentRunner.Run(request).Complete, Is.True);
    }

    [OneTimeTearDown]
    public void Clean() => dir.Dispose();

    static string[] Stages => ["stem", "layer1", "layer2", "layer3", "layer4", "pool", "fc"];

    /// <summary>The summary.csv value of a layer's metric, read independently of the profile code.</summary>
    double SummaryValue(string variant, string layer, string metric) =>
        double.Parse(File.ReadLines(Path.Combine(outDir, "tiny", "resnet18", variant, RunLayout.SummaryCsv))
            .Select(l => l.Split(',')).Single(p => p[0] == layer && p[1] == metric)[2], CultureInfo.InvariantCulture);

    [Test]
    public void StagesRunWritesEveryStageAsAModuleLayer()
    {
        string run = Path.Combine(outDir, "tiny", "resnet18", "antialiased");
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(run, RunLayout.RunJson)))!;
        Assert.That(json["layers"]!.AsArray().Select(l => l!.GetValue<string>()),
            Is.EqualTo(new[] { "maxpool@gap", "layer1@gap", "layer2@gap", "layer3@gap", "layer4@gap", "pool", "fc" }));
        Assert.That(json["modules"]!["layer4@gap"]!["shape"]!.AsArray().Select(d => d!.GetValue<long>()), Is.EqualTo(new long[] { 512, 2, 2 }));
        Assert.That(File.Exists(Path.Combine(run, "cos-maxpool@gap-c.csv")));
        Assert.That(Directory.GetFiles(run, "features-*"), Is.Empty, "no feature matrices without --features");
        Assert.That(File.Exists(Path.Combine(run, "cos-layer2@gap-c.csv")));
    }

    [Test]
    public void ProfileHasEveryStageOfEveryVariantWithTheRunsMetric()
    {
        var profile = DepthProfile.Collect(outDir, "resnet18", "tiny");
        Assert.That(profile.Stages, Is.EqualTo(Stages));
        Assert.That(profile.Variants, Is.EqualTo(new[] { "torchvision", "antialiased" }));
        string[] layers = ["maxpool@gap", "layer1@gap", "layer2@gap", "layer3@gap", "layer4@gap", "pool", "fc"];
        foreach (var variant in profile.Variants)
            for (int i = 0; i < Stages.Length; i++)
                Assert.That(profile.Value(Stages[i], variant), Is.EqualTo(SummaryValue(variant, layers[i], "global")), $"{variant} {Stages[i]}");
        // Real networks on shifted crops: the values are cosines that differ between stages.
        Assert.That(profile.Points.Select(p => p.Value).Distinct().Count(), Is.GreaterThan(7));

        var local = DepthProfile.Collect(outDir, "resnet18", "tiny", "c.mean", ["antialiased"]);
        Assert.That(local.Variants, Is.EqualTo(new[] { "antialiased" }));
        Assert.That(local.Value("layer3", "antialiased"), Is.EqualTo(SummaryValue("antialiased", "layer3@gap", "c.mean")));
    }

    [Test]
    public void FigureProfileWritesPngSvgAndCsv()
    {
        var r = TestCli.Run("figure", "profile", outDir, "--model", "resnet18", "--dataset", "tiny");
        Assert.That(r.Code, Is.EqualTo(0), r.Stderr);
        string stem = Path.Combine(outDir, "figures", "profile-tiny-resnet18-global");
        Assert.That(r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[] { $"wrote {stem}.png", $"wrote {stem}.svg", $"wrote {stem}.csv" }));
        var png = File.ReadAllBytes(stem + ".png");
        Assert.That(png[..8], Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "a PNG");
        Assert.That(BitConverter.ToInt32([.. png[16..20].Reverse()]), Is.EqualTo(1520), "PNG at 2x");
        Assert.That(File.ReadAllText(stem + ".svg"), Does.StartWith("<svg").Or.StartWith("<?xml"));
        var csv = File.ReadAllLines(stem + ".csv");
        Assert.That(csv[0], Is.EqualTo("stage,variant,layer,global"));
        Assert.That(csv, Has.Length.EqualTo(1 + 2 * Stages.Length));
        Assert.That(csv[1].Split(',')[..3], Is.EqualTo(new[] { "stem", "torchvision", "maxpool@gap" }));
        Assert.That(double.Parse(csv[^1].Split(',')[3], CultureInfo.InvariantCulture), Is.EqualTo(SummaryValue("antialiased", "fc", "global")));
    }

    [Test]
    public void ProfileErrorsSayWhichRunToMake()
    {
        using var other = TestPaths.NewTempDir();
        var none = Assert.Throws<ShiftBenchException>(() => DepthProfile.Collect(other.Path, "resnet18", "tiny"))!;
        Assert.That(none.Message, Does.Contain("no run of resnet18 on tiny").And.Contain("--layers stages"));

        // A run without the stages is named with the command that makes them.
        foreach (var request in RunRequestBuilder.Build(new RunChoices
                 {
                     Model = "resnet18", Dataset = dataset, Variant = "torchvision", Layers = ["fc"], Weights = "deterministic",
                     DataDir = TestPaths.DataDir, Out = other.Path, BatchSize = 9,
                 }))
            ExperimentRunner.Run(request);
        var lacks = Assert.Throws<ShiftBenchException>(() => DepthProfile.Collect(other.Path, "resnet18", "tiny", variants: ["torchvision"]))!;
        Assert.That(lacks.Message, Does.Contain("lacks stages maxpool@gap").And.Contain($"shiftbench run --model resnet18 --dataset tiny --variant torchvision --layers stages --out {other.Path}"));

        var metric = Assert.Throws<ShiftBenchException>(() => DepthProfile.Collect(outDir, "resnet18", "tiny", "globl"))!;
        Assert.That(metric.Message, Does.Contain("unknown metric 'globl' (--metric)").And.Contain("global").And.Contain("c.mean"));

        var cli = TestCli.Run("figure", "profile", other.Path, "--model", "resnet18", "--dataset", "tiny");
        Assert.That(cli.Code, Is.EqualTo(2));
        Assert.That(cli.Stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(1), cli.Stderr);
        Assert.That(cli.Stderr, Does.Contain("--layers stages"));
    }

    [Test]
    public void ReportEmbedsTheProfileOfRunsWithStages()
    {
        ReportBuilder.Build(outDir, [TestPaths.DataDir]);
        string html = File.ReadAllText(Path.Combine(outDir, ReportBuilder.FileName));
        const string open = "<script id=\"shiftbench-data\" type=\"application/json\">";
        int start = html.IndexOf(open) + open.Length;
        var data = JsonNode.Parse(html[start..html.IndexOf("</script>", start)])!;
        var profile = data["profiles"]!.AsArray().Single()!;
        Assert.That((profile["dataset"]!.GetValue<string>(), profile["model"]!.GetValue<string>(), profile["metric"]!.GetValue<string>()), Is.EqualTo(("tiny", "resnet18", "global")));
        Assert.That(profile["stages"]!.AsArray().Select(s => s!.GetValue<string>()), Is.EqualTo(Stages));
        Assert.That(profile["values"]!["antialiased"]!.AsArray().Select(v => v!.GetValue<double>()).ElementAt(3), Is.EqualTo(SummaryValue("antialiased", "layer3@gap", "global")));
        Assert.That(html, Does.Contain("id=\"profile-svg\""));
    }

    /// <summary>The page draws the embedded profile: one line per variant, in headless Chromium (as ReportPageTests).</summary>
    [Test]
    public async Task ReportPageDrawsTheProfile()
    {
        const string chromium = "/usr/bin/chromium";
        if (!File.Exists(chromium)) Assert.Fail($"{chromium} not found: install Debian's chromium package (apt-get install chromium)");
        ReportBuilder.Build(outDir, [TestPaths.DataDir]);
        using var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = chromium, Headless = true, Args = ["--no-sandbox", "--headless"] });
        var page = await browser.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        page.Console += (_, m) => { if (m.Type == "error") errors.Add(m.Text); };
        await page.GotoAsync(new Uri(Path.Combine(outDir, ReportBuilder.FileName)).AbsoluteUri);
        await page.WaitForSelectorAsync("body[data-ready='1']", new() { Timeout = 30000 });
        Assert.That(await page.IsVisibleAsync("#profile"), "profile shown for resnet18 on tiny");
        var lines = await page.EvalOnSelectorAllAsync<string[]>("#profile-svg polyline.profile-line", "ls => ls.map(l => l.getAttribute('data-variant') + ':' + l.getAttribute('points').split(' ').length)");
        Assert.That(lines, Is.EqualTo(new[] { $"torchvision:{Stages.Length}", $"antialiased:{Stages.Length}" }));
        Assert.That(await page.EvalOnSelectorAllAsync<string[]>("#profile-svg text", "ts => ts.map(t => t.textContent)"), Is.SupersetOf(Stages));
        Assert.That(errors, Is.Empty);
    }
}
