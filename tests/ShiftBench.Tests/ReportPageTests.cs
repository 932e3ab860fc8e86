using System.Text.Json;
using Microsoft.Playwright;
using ShiftBench.Report;

namespace ShiftBench.Tests;

/// <summary>
/// The report page in a real headless Chromium (Debian's `chromium` package, driven by Playwright), opened
/// from file:// over synthetic runs: resnet50 both variants on berry and plane, alexnet torchvision only on berry.
/// </summary>
[NonParallelizable]
public class ReportPageTests
{
    const string ChromiumPath = "/usr/bin/chromium";
    string outDir = "";
    string dataDir = "";
    IPlaywright? playwright;
    IBrowser? browser;
    IPage page = null!;
    readonly List<string> consoleErrors = [];
    readonly List<string> requests = [];

    [OneTimeSetUp]
    public async Task BuildReportAndStartBrowser()
    {
        dataDir = SyntheticRuns.RequireData();
        if (!File.Exists(ChromiumPath))
            Assert.Fail($"{ChromiumPath} not found: install Debian's chromium package (apt-get install chromium)");
        outDir = SyntheticRuns.NewOutDir();
        string[] layers = ["pool", "fc", "class"];
        SyntheticRuns.Write(outDir, "berry", "resnet50", "torchvision", 5, 5, 31, layers, seed: 1, figures: ["summary-similarity.png"]);
        SyntheticRuns.Write(outDir, "berry", "resnet50", "antialiased", 5, 5, 31, layers, seed: 2);
        SyntheticRuns.Write(outDir, "berry", "resnet50", "antialiased-lpf3", 5, 5, 31, layers, seed: 7);
        SyntheticRuns.Write(outDir, "berry", "alexnet", "torchvision", 5, 5, 31, ["fc6", "fc", "class"], anchors: ["tl", "c"], seed: 3);
        SyntheticRuns.Write(outDir, "plane", "resnet50", "torchvision", 7, 7, 22, layers, seed: 4);
        SyntheticRuns.Write(outDir, "plane", "resnet50", "antialiased", 7, 7, 22, layers, seed: 5);
        SyntheticRuns.Write(outDir, "plane", "vgg16", "torchvision", 7, 7, 22, layers, seed: 6, complete: false);
        // Class metrics computed by RunSummary from class.csv and top-1/top-5 files: the antialiased run is right
        // everywhere, the torchvision one flips at a few positions; alexnet has no summary.json.
        WriteSummary("resnet50", "torchvision", top1: i => i % 7 == 3 ? 948 : 949, targetInTop5: i => i % 11 != 3);
        WriteSummary("resnet50", "antialiased", top1: _ => 949, targetInTop5: _ => true);
        ReportBuilder.Build(outDir, [dataDir]);

        playwright = await Playwright.CreateAsync();
        browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--headless"],
        });
    }

    void WriteSummary(string model, string variant, Func<int, long> top1, Func<int, bool> targetInTop5)
    {
        string dir = Path.Combine(outDir, "berry", model, variant);
        const int n = 25;
        ShiftBench.Output.Npy.Write(Path.Combine(dir, "top1.npy"), [.. Enumerable.Range(0, n).Select(top1)], n);
        ShiftBench.Output.Npy.Write(Path.Combine(dir, "top5.npy"),
            [.. Enumerable.Range(0, n).SelectMany(i => new long[] { top1(i), 1, 2, 3, targetInTop5(i) ? 949 : 4 })], n, 5);
        ShiftBench.Analysis.RunSummary.Write(dir, new ShiftBench.Analysis.RunSummary.Geometry(5, 5, 31, ["pool", "fc", "class"], SyntheticRuns.StudyAnchors, 949));
    }

    [OneTimeTearDown]
    public async Task StopBrowser()
    {
        if (browser is not null) await browser.CloseAsync();
        playwright?.Dispose();
    }

    [SetUp]
    public async Task OpenPage()
    {
        consoleErrors.Clear();
        requests.Clear();
        page = await browser!.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1500, Height = 1000 } });
        page.Console += (_, m) => { if (m.Type == "error") consoleErrors.Add(m.Text); };
        page.PageError += (_, e) => consoleErrors.Add(e);
        page.Request += (_, r) => requests.Add(r.Url);
        await page.GotoAsync(new Uri(Path.Combine(outDir, ReportBuilder.FileName)).AbsoluteUri);
        await page.WaitForSelectorAsync("body[data-ready='1']", new PageWaitForSelectorOptions { Timeout = 30000 });
    }

    [TearDown]
    public async Task ClosePage() => await page.CloseAsync();

    async Task Select(string id, string value)
    {
        await page.SelectOptionAsync("#" + id, value);
        await page.EvaluateAsync("() => window.shiftbenchRendered");
    }

    Task<string[]> Options(string id) =>
        page.EvalOnSelectorAllAsync<string[]>($"#{id} option", "os => os.map(o => o.value)");

    /// <summary>RGBA bytes of a canvas, read in the page.</summary>
    async Task<byte[]> CanvasPixels(string id)
    {
        var values = await page.EvaluateAsync<int[]>($"() => {{ const c = document.getElementById('{id}'); return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); }}");
        return values.Select(v => (byte)v).ToArray();
    }

    async Task Hover(string variant, int iy, int ix, int rows, int cols)
    {
        var box = (await page.Locator("#heat-" + variant).BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(box.X + (ix + 0.5f) * box.Width / cols, box.Y + (iy + 0.5f) * box.Height / rows);
    }

    RunFolder Run(string dataset, string model, string variant) =>
        RunFolder.TryLoad(Path.Combine(outDir, dataset, model, variant))!;

    [Test]
    public void PageLoadsFromFileWithoutErrorsOrNetwork()
    {
        Assert.That(consoleErrors, Is.Empty);
        Assert.That(requests.Where(u => !u.StartsWith("file:") && !u.StartsWith("data:") && !u.StartsWith("blob:")), Is.Empty);
        Assert.That(new FileInfo(Path.Combine(outDir, ReportBuilder.FileName)).Length, Is.GreaterThan(0));
    }

    [Test]
    public async Task SelectorsOfferOnlyChoicesThatWereRun()
    {
        Assert.That(await Options("dataset"), Is.EqualTo(new[] { "berry", "plane" }));
        await Select("dataset", "plane");
        Assert.That(await Options("model"), Is.EqualTo(new[] { "resnet50" }), "vgg16 on plane is incomplete");
        await Select("dataset", "berry");
        Assert.That(await Options("model"), Is.EquivalentTo(new[] { "alexnet", "resnet50" }));
        await Select("model", "alexnet");
        Assert.That(await Options("layer"), Is.EqualTo(new[] { "fc6", "fc", "class" }));
        await Select("layer", "fc");
        Assert.That(await Options("anchor"), Is.EqualTo(new[] { "tl", "c" }));
        await Select("layer", "class");
        Assert.That(await page.Locator("#anchor").IsDisabledAsync(), Is.True, "class has no anchor");
        Assert.That(consoleErrors, Is.Empty);
    }

    [Test]
    public async Task ChangingEachSelectorChangesWhatIsDrawn()
    {
        await Select("dataset", "berry");
        await Select("model", "resnet50");
        await Select("layer", "fc");
        await Select("anchor", "tl");
        var seen = new List<byte[]> { await CanvasPixels("heat-torchvision") };
        foreach (var (id, value) in new[] { ("anchor", "br"), ("layer", "pool"), ("layer", "class"), ("dataset", "plane"), ("model", "resnet50") })
        {
            if (id == "model")
            {
                await Select("dataset", "berry");
                await Select("layer", "fc");
                await Select("anchor", "tl");
                seen.Add(await CanvasPixels("heat-torchvision"));
                await Select("model", "alexnet");
            }
            else
                await Select(id, value);
            var now = await CanvasPixels("heat-torchvision");
            Assert.That(now, Is.Not.EqualTo(seen[^1]), $"changing {id} to {value} redraws the heatmap");
            seen.Add(now);
        }
        Assert.That(consoleErrors, Is.Empty);
    }

    static IEnumerable<TestCaseData> HoverCases()
    {
        yield return new TestCaseData("berry", "tl", 0, 0);
        yield return new TestCaseData("berry", "c", 3, 1);
        yield return new TestCaseData("berry", "br", 4, 4);
        yield return new TestCaseData("plane", "bl", 2, 5);
        yield return new TestCaseData("plane", "tr", 6, 6);
    }

    [TestCaseSource(nameof(HoverCases))]
    public async Task HoverShowsTheCsvValuesAndTheExactImageTheNetworkSaw(string dataset, string anchor, int iy, int ix)
    {
        await Select("dataset", dataset);
        await Select("model", "resnet50");
        await Select("layer", "fc");
        await Select("anchor", anchor);
        var tv = Run(dataset, "resnet50", "torchvision");
        var aa = Run(dataset, "resnet50", "antialiased");

        await Hover("torchvision", iy, ix, tv.Rows, tv.Cols);

        int y = iy * tv.Stride, x = ix * tv.Stride;
        Assert.That(await page.TextContentAsync("#hover-pos"), Is.EqualTo($"y = {y}, x = {x}"));
        foreach (var run in new[] { tv, aa })
        {
            double expected = run.ReadGrid(run.Find("fc", anchor)!)[iy, ix];
            double shown = double.Parse((await page.TextContentAsync("#hover-" + run.Variant))!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.That(shown, Is.EqualTo(expected).Within(0.00005 + 2e-5), $"{run.Variant} value at ({y}, {x})");
        }

        // What `shiftbench dataset render` writes for that position.
        using var shifted = Datasets.ShiftDataset.Open(Datasets.DatasetCatalog.Resolve(dataset), dataDir);
        using var rendered = shifted.Render8Bit(y, x);
        byte[] expectedRgb = rendered.to(TorchSharp.torch.ScalarType.Byte).permute(1, 2, 0).contiguous().data<byte>().ToArray();
        byte[] canvas = await CanvasPixels("view");
        Assert.That(canvas, Has.Length.EqualTo(224 * 224 * 4));
        int mismatches = 0;
        for (int i = 0; i < 224 * 224; i++)
            for (int k = 0; k < 3; k++)
                if (canvas[i * 4 + k] != expectedRgb[i * 3 + k]) mismatches++;
        Assert.That(mismatches, Is.Zero, "page canvas equals the C# rendering of that position");
        Assert.That(consoleErrors, Is.Empty);
    }

    [Test]
    public async Task AFurtherVariantGetsItsOwnPanelAndHoverValue()
    {
        await Select("dataset", "berry");
        await Select("model", "resnet50");
        await Select("layer", "fc");
        await Select("anchor", "c");
        Assert.That(await page.TextContentAsync("#panel-antialiased-lpf3 h2"), Is.EqualTo("antialiased-lpf3"));
        var run = Run("berry", "resnet50", "antialiased-lpf3");
        await Hover("antialiased-lpf3", 1, 3, run.Rows, run.Cols);
        double expected = run.ReadGrid(run.Find("fc", "c")!)[1, 3];
        double shown = double.Parse((await page.TextContentAsync("#hover-antialiased-lpf3"))!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(shown, Is.EqualTo(expected).Within(0.00005 + 2e-5));
        await Select("dataset", "plane");
        Assert.That(await page.TextContentAsync("#notrun-antialiased-lpf3"), Is.EqualTo("not run"), "plane has no lpf3 run");
        Assert.That(consoleErrors, Is.Empty);
    }

    [Test]
    public async Task HoveredImageMovesWithThePosition()
    {
        await Select("dataset", "berry");
        await Select("model", "resnet50");
        var tv = Run("berry", "resnet50", "torchvision");
        await Hover("torchvision", 0, 0, tv.Rows, tv.Cols);
        var first = await CanvasPixels("view");
        await Hover("antialiased", 1, 2, tv.Rows, tv.Cols);
        Assert.That(await page.TextContentAsync("#hover-pos"), Is.EqualTo($"y = {tv.Stride}, x = {2 * tv.Stride}"));
        Assert.That(await CanvasPixels("view"), Is.Not.EqualTo(first));
    }

    [Test]
    public async Task SliderSetsTheColourScaleMinimum()
    {
        await Select("dataset", "plane");
        await Select("model", "resnet50");
        await Select("layer", "fc");
        await Select("anchor", "c");
        var run = Run("plane", "resnet50", "torchvision");
        var grid = run.ReadGrid(run.Find("fc", "c")!);

        async Task CheckColours(double vmin)
        {
            var pixels = await CanvasPixels("heat-torchvision");
            for (int iy = 0; iy < run.Rows; iy++)
                for (int ix = 0; ix < run.Cols; ix++)
                {
                    int o = (iy * run.Cols + ix) * 4, index = ColorScale.Index(grid[iy, ix], vmin, 1.0);
                    var allowed = Enumerable.Range(Math.Max(0, index - 1), Math.Min(255, index + 1) - Math.Max(0, index - 1) + 1).Select(k => ColorScale.Lut[k]);
                    Assert.That(allowed, Does.Contain((pixels[o], pixels[o + 1], pixels[o + 2])), $"cell ({iy}, {ix}) value {grid[iy, ix]} at minimum {vmin}");
                }
        }

        double initial = double.Parse(await page.InputValueAsync("#vmin"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(initial, Is.EqualTo(Math.Floor(grid.Cast<double>().Concat(Run("plane", "resnet50", "antialiased").ReadGrid(Run("plane", "resnet50", "antialiased").Find("fc", "c")!).Cast<double>()).Min() * 100) / 100).Within(1e-9),
            "the slider starts at the data's minimum");
        await CheckColours(initial);
        var before = await CanvasPixels("heat-torchvision");

        await page.FillAsync("#vmin", "0.95");

        Assert.That(await page.TextContentAsync("#vmin-value"), Is.EqualTo("0.950"));
        Assert.That(await CanvasPixels("heat-torchvision"), Is.Not.EqualTo(before));
        await CheckColours(0.95);
    }

    [Test]
    public async Task AVariantThatWasNotRunShowsNotRun()
    {
        await Select("dataset", "berry");
        await Select("model", "alexnet");
        await Select("layer", "fc");

        Assert.That(await page.Locator("#notrun-antialiased").IsVisibleAsync(), Is.True);
        Assert.That(await page.TextContentAsync("#notrun-antialiased"), Is.EqualTo("not run"));
        Assert.That(await page.Locator("#notrun-torchvision").IsVisibleAsync(), Is.False);
        var run = Run("berry", "alexnet", "torchvision");
        await Hover("torchvision", 1, 1, run.Rows, run.Cols);
        Assert.That(await page.TextContentAsync("#hover-antialiased"), Is.EqualTo("not run"));
        Assert.That(consoleErrors, Is.Empty);
    }

    [Test]
    public async Task MetricsTableShowsEachVariantsClassMetrics()
    {
        await Select("dataset", "berry");
        await Select("model", "resnet50");
        string[] keys = ["accuracy", "consistency", "local_consistency", "flip_rate", "top5_jaggedness", "mac", "worst_case_correct", "period_y_px", "period_x_px"];
        Assert.That(keys, Is.EqualTo(ReportBuilder.TableMetrics));
        var shownValues = new Dictionary<string, List<string>>();
        foreach (var variant in new[] { "torchvision", "antialiased" })
        {
            var summary = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "berry", "resnet50", variant, "summary.json")))!["layers"]!["class"]!;
            shownValues[variant] = [];
            foreach (var key in keys)
            {
                string shown = (await page.TextContentAsync($"#metric-{key}-{variant}"))!;
                shownValues[variant].Add(shown);
                var value = summary[key]!;
                string expected = key == "worst_case_correct" ? (value.GetValue<int>() == 1 ? "yes" : "no")
                    : value.GetValue<double>().ToString("F4", System.Globalization.CultureInfo.InvariantCulture);
                Assert.That(shown, Is.EqualTo(expected), $"{variant} {key}");
            }
        }
        // The two runs differ where they should, so the table is not showing one run twice.
        Assert.That(await page.TextContentAsync("#metric-worst_case_correct-torchvision"), Is.EqualTo("no"));
        Assert.That(await page.TextContentAsync("#metric-worst_case_correct-antialiased"), Is.EqualTo("yes"));
        Assert.That(await page.TextContentAsync("#metric-flip_rate-antialiased"), Is.EqualTo("0.0000"));
        Assert.That(double.Parse((await page.TextContentAsync("#metric-flip_rate-torchvision"))!, System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThan(0));
        Assert.That(double.Parse((await page.TextContentAsync("#metric-top5_jaggedness-torchvision"))!, System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThan(0));
        Assert.That(await page.TextContentAsync("#metric-mac-torchvision"), Is.Not.EqualTo(await page.TextContentAsync("#metric-mac-antialiased")));
        Assert.That(await page.TextContentAsync("#metric-accuracy-antialiased-lpf3"), Is.EqualTo("–"), "a run without summary.json");
        await Select("dataset", "plane");
        Assert.That(await page.TextContentAsync("#metric-flip_rate-antialiased-lpf3"), Is.EqualTo("not run"));
        Assert.That(consoleErrors, Is.Empty);
    }

    [Test]
    public async Task SummaryFiguresOfARunAreShownBesideItsHeatmap()
    {
        await Select("dataset", "berry");
        await Select("model", "resnet50");
        Assert.That(await page.Locator("#figs-torchvision img").CountAsync(), Is.EqualTo(1));
        Assert.That(await page.Locator("#figs-antialiased img").CountAsync(), Is.Zero);
        double width = await page.EvaluateAsync<double>("() => document.querySelector('#figs-torchvision img').naturalWidth");
        Assert.That(width, Is.EqualTo(117), "the run's PNG, embedded");
    }

    [Test]
    public void ReportCommandWritesIndexHtml()
    {
        string dir = SyntheticRuns.NewOutDir();
        SyntheticRuns.Write(dir, "berry", "resnet50", "torchvision", 3, 3, 62, ["fc"], anchors: ["tl"]);
        Assert.That(FigureTests.Cli(["report", dir, "--data-dir", dataDir]), Is.Zero);
        string html = File.ReadAllText(Path.Combine(dir, "index.html"));
        Assert.That(html, Does.Not.Contain("__SHIFTBENCH_DATA__"));
        Assert.That(html, Does.Not.Contain("http://").And.Not.Contain("https://"), "no external resources");
        Assert.That(FigureTests.Cli(["report", Path.Combine(dir, "missing")]), Is.EqualTo(2));
    }
}
