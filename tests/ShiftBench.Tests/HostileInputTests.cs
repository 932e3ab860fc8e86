using System.Text.Json.Nodes;
using ShiftBench.Output;

namespace ShiftBench.Tests;

/// <summary>
/// Issue #22 items 1-6, tried as a tester would, through the CLI: a hostile dataset config, image or
/// run folder is refused with one line naming it and exit 2 before any work, nothing is written outside --out,
/// and a perfectly invariant grid (a result, not an error) completes.
/// </summary>
[TestFixture]
public class HostileInputTests
{
    static readonly string[] Run = ["run", "--model", "alexnet", "--variant", "torchvision", "--weights", "deterministic", "--offline"];

    /// <summary>berry at stride 500: a single position, so every grid is constant (the shared complete run).</summary>
    string constantOut = "";
    (int Code, string Stdout, string Stderr) constantRun;
    string scratch = "";

    [OneTimeSetUp]
    public void RunOnePosition()
    {
        constantOut = NewScratch();
        constantRun = TestCli.Run([.. Run, "--dataset", "berry", "--stride", "500", "--out", constantOut]);
    }

    [SetUp]
    public void NewFolder() => scratch = NewScratch();

    static string NewScratch()
    {
        string dir = Path.Combine(Path.GetTempPath(), "shiftbench-hostile-tests", Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    static string RunDir(string outDir) => Path.Combine(outDir, "berry", "alexnet", "torchvision");

    /// <summary>Exit 2 and exactly one line on stderr, `error: ...`, holding every one of mentions.</summary>
    static void AssertRefused((int Code, string Stdout, string Stderr) result, params string[] mentions)
    {
        Assert.That(result.Code, Is.EqualTo(2), result.Stderr);
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), result.Stderr);
        Assert.That(lines[0], Does.StartWith("error: "));
        foreach (var m in mentions) Assert.That(lines[0], Does.Contain(m));
    }

    /// <summary>berry's config with some lines replaced (key: the line's start, e.g. "name:"), written to scratch.</summary>
    string BerryConfig(string file, params (string Key, string Line)[] changes)
    {
        var lines = File.ReadAllLines(Path.Combine(TestPaths.RepoRoot, "configs", "berry.yaml")).ToList();
        foreach (var (key, line) in changes)
        {
            int i = lines.FindIndex(l => l.TrimStart().StartsWith(key, StringComparison.Ordinal));
            Assert.That(i, Is.GreaterThanOrEqualTo(0), $"berry.yaml has no line {key}");
            lines[i] = line;
        }
        string path = Path.Combine(scratch, file);
        File.WriteAllLines(path, lines);
        return path;
    }

    static string[] Entries(string dir) => [.. Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories).Order()];

    // ---- 1. a dataset's name cannot leave --out ----

    [TestCase("../../escaped")]
    [TestCase("ABSOLUTE/escaped")]
    [TestCase(".")]
    public void DatasetNameThatIsAPathIsRefusedAndWritesNothing(string name)
    {
        name = name.Replace("ABSOLUTE", scratch);
        string config = BerryConfig("named.yaml", ("name:", $"name: {name}"));
        string outDir = Path.Combine(scratch, "a", "b", "out");
        AssertRefused(TestCli.Run([.. Run, "--dataset", config, "--stride", "500", "--out", outDir]), config, $"name '{name}'");
        Assert.That(Entries(scratch), Is.EqualTo(new[] { config }), "nothing but the config may exist");
    }

    [Test]
    public void FigureOfARunWhoseDatasetNameIsAPathStaysInOutFigures()
    {
        string outDir = Path.Combine(scratch, "a", "out");
        CopyRun(constantOut, outDir);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(RunDir(outDir), RunLayout.RunJson)))!;
        json["dataset"]!["name"] = "../../up";
        File.WriteAllText(Path.Combine(RunDir(outDir), RunLayout.RunJson), json.ToJsonString());
        var result = TestCli.Run("figure", "pair", outDir, "--pair", "alexnet/torchvision", "alexnet/torchvision", "--dataset", "../../up", "--layer", "class");
        Assert.That(result.Code, Is.EqualTo(0), result.Stderr);
        var written = Entries(scratch).Where(p => p.EndsWith(".png") || p.EndsWith(".svg")).Where(p => !p.StartsWith(RunDir(outDir))).ToList();
        Assert.That(written, Has.Count.EqualTo(2));
        Assert.That(written, Has.All.StartsWith(Path.Combine(outDir, "figures") + Path.DirectorySeparatorChar));
    }

    // ---- 2. a perfectly invariant grid completes ----

    [Test]
    public void ConstantGridRunCompletesWithCosinesWithinOne()
    {
        Assert.That(constantRun.Code, Is.EqualTo(0), constantRun.Stderr);
        string dir = RunDir(constantOut);
        Assert.That(RunLayout.IsComplete(dir), "run.json must say complete");
        var cosines = Directory.GetFiles(dir, "cos-*.csv");
        Assert.That(cosines, Is.Not.Empty);
        foreach (var csv in cosines)
        {
            var values = GridCsv.Rows(csv).Select(r => r.Value).ToList();
            Assert.That(values, Has.Count.EqualTo(1), csv);
            Assert.That(values, Has.All.InRange(-1.0, 1.0), csv);
            Assert.That(values[0], Is.EqualTo(1.0).Within(1e-12), $"{csv}: a position against itself");
            Assert.That(File.Exists(Path.ChangeExtension(csv, ".png")), $"{csv} has no heatmap");
        }
        Assert.That(File.Exists(Path.Combine(dir, "class.png")));
    }

    [TestCase("2")]
    [TestCase("1")]
    [TestCase("NaN")]
    [TestCase("-Infinity")]
    public void VminOutsideTheScaleIsRefusedBeforeWork(string vmin)
    {
        string outDir = Path.Combine(scratch, "out");
        AssertRefused(TestCli.Run([.. Run, "--dataset", "berry", "--stride", "500", "--vmin", vmin, "--out", outDir]), "--vmin");
        Assert.That(Directory.Exists(outDir), Is.False);
    }

    [Test]
    public void FigureVminNaNIsRefused() =>
        AssertRefused(TestCli.Run("figure", "pair", constantOut, "--pair", "alexnet/torchvision", "alexnet/torchvision",
            "--dataset", "berry", "--layer", "class", "--vmin", "NaN", "--out", Path.Combine(scratch, "f.png")), "--vmin");

    // ---- 4. scans do not follow symbolic links ----

    [Test]
    public void ReportCountsARunOnceThroughALinkToItsOwnFolderAndSkipsSystemLinks()
    {
        string outDir = Path.Combine(scratch, "out");
        CopyRun(constantOut, outDir);
        File.CreateSymbolicLink(Path.Combine(outDir, "self"), ".");
        File.CreateSymbolicLink(Path.Combine(outDir, "usr"), "/usr");
        var result = TestCli.Run("report", outDir);
        Assert.That(result.Code, Is.EqualTo(0), result.Stderr);
        Assert.That(result.Stdout, Does.Contain(": 1 runs,"));
    }

    [Test]
    public void RunDoesNotLookThroughALinkInOut()
    {
        // A linked folder holding a bf16 run: were the link followed, the fp32 run would be refused for mixing precisions.
        string elsewhere = Path.Combine(scratch, "elsewhere", "berry", "alexnet", "torchvision");
        Directory.CreateDirectory(elsewhere);
        File.WriteAllText(Path.Combine(elsewhere, RunLayout.RunJson), """{"complete": true, "precision": "bf16"}""");
        string outDir = Path.Combine(scratch, "out");
        Directory.CreateDirectory(outDir);
        File.CreateSymbolicLink(Path.Combine(outDir, "linked"), Path.Combine(scratch, "elsewhere"));
        var result = TestCli.Run([.. Run, "--dataset", "berry", "--stride", "500", "--layers", "class", "--out", outDir]);
        Assert.That(result.Code, Is.EqualTo(0), result.Stderr);
        Assert.That(RunLayout.IsComplete(RunDir(outDir)));
    }

    [Test]
    public void OutInProcIsOneLine()
    {
        Assume.That(Directory.Exists("/proc/self"), "needs Linux's /proc");
        AssertRefused(TestCli.Run([.. Run, "--dataset", "berry", "--stride", "500", "--layers", "class", "--out", "/proc/self"]), "/proc/self");
        AssertRefused(TestCli.Run("report", "/proc/self"), "/proc/self");
    }

    // ---- 3. strings from disk are text in the report ----

    [Test]
    public async Task ReportShowsMarkupFromRunJsonAsText()
    {
        const string payload = "<img src=x onerror=\"window.__pwned=1\">";
        string outDir = Path.Combine(scratch, "out");
        CopyRun(constantOut, outDir);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(RunDir(outDir), RunLayout.RunJson)))!;
        json["variant"] = payload;
        File.WriteAllText(Path.Combine(RunDir(outDir), RunLayout.RunJson), json.ToJsonString());
        // A metric is a number: markup in its place makes summary.json damaged, refused in one line, never shown.
        string summary = Path.Combine(RunDir(outDir), RunLayout.SummaryJson);
        string original = File.ReadAllText(summary);
        var metrics = JsonNode.Parse(original)!;
        metrics["layers"]!["class"]!["accuracy"] = payload;
        File.WriteAllText(summary, metrics.ToJsonString());
        AssertRefused(TestCli.Run("report", outDir), summary, "metric 'accuracy' is not a number");
        File.WriteAllText(summary, original);
        var built = TestCli.Run("report", outDir);
        Assert.That(built.Code, Is.EqualTo(0), built.Stderr);

        using var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = "/usr/bin/chromium", Headless = true, Args = ["--no-sandbox"] });
        var page = await browser.NewPageAsync();
        await page.GotoAsync(new Uri(Path.Combine(outDir, "index.html")).AbsoluteUri);
        await page.WaitForSelectorAsync("body[data-ready='1']");
        Assert.That(await page.EvaluateAsync<int>("() => document.querySelectorAll('img[src=\"x\"]').length"), Is.EqualTo(0), "markup from run.json became an element");
        var headers = await page.EvalOnSelectorAllAsync<string[]>("#metrics th", "ths => ths.map(t => t.textContent)");
        Assert.That(headers, Does.Contain(payload));
        var panels = await page.EvalOnSelectorAllAsync<string[]>(".panel h2", "hs => hs.map(h => h.textContent)");
        Assert.That(panels, Does.Contain(payload));
    }

    // ---- 5. a truncated image is refused ----

    [Test]
    public void TruncatedPngIsRefused()
    {
        var whole = File.ReadAllBytes(Path.Combine(TestPaths.DataDir, "berry_transparent.png"));
        string half = Path.Combine(scratch, "half.png");
        File.WriteAllBytes(half, whole[..(whole.Length / 2)]);
        string config = BerryConfig("half.yaml", ("name:", "name: half"), ("source:", $"  source: {half}"));
        AssertRefused(TestCli.Run("dataset", "render", "--dataset", config, "--at", "0,0", "--out", Path.Combine(scratch, "r.png")), half, "truncated");
        string outDir = Path.Combine(scratch, "out");
        AssertRefused(TestCli.Run([.. Run, "--dataset", config, "--stride", "500", "--out", outDir]), half, "truncated");
        Assert.That(File.Exists(Path.Combine(scratch, "r.png")), Is.False);
        Assert.That(RunLayout.IsComplete(Path.Combine(outDir, "half", "alexnet", "torchvision")), Is.False);
    }

    [Test]
    public void TruncatedJpegIsRefused()
    {
        string jpeg = Path.Combine(scratch, "plane.jpg");
        using (var image = SixLabors.ImageSharp.Image.Load(Path.Combine(TestPaths.DataDir, "plane.png")))
            SixLabors.ImageSharp.ImageExtensions.SaveAsJpeg(image, jpeg);
        var whole = File.ReadAllBytes(jpeg);
        File.WriteAllBytes(jpeg, whole[..(whole.Length * 2 / 3)]);
        string config = BerryConfig("jpeg.yaml", ("name:", "name: jpeg"), ("source:", $"  source: {jpeg}"));
        AssertRefused(TestCli.Run("dataset", "render", "--dataset", config, "--at", "0,0", "--out", Path.Combine(scratch, "r.png")), jpeg, "truncated");
    }

    // ---- 6. sizes are bounded ----

    [Test]
    public void HugeSourceImageIsRefusedFromItsHeader()
    {
        string huge = TestPaths.Fixture("hostile", "huge-20000x20000.png");
        string config = BerryConfig("huge.yaml", ("name:", "name: huge"), ("source:", $"  source: {huge}"));
        AssertRefused(TestCli.Run("dataset", "render", "--dataset", config, "--at", "0,0", "--out", Path.Combine(scratch, "r.png")), huge, "20000x20000");
    }

    [Test]
    public void HugeCanvasIsRefusedByTheConfig()
    {
        string config = BerryConfig("big.yaml", ("size: 224", "  size: 200000"));
        AssertRefused(TestCli.Run("dataset", "show", config), config, "canvas.size 200000");
        AssertRefused(TestCli.Run([.. Run, "--dataset", config, "--out", Path.Combine(scratch, "out")]), config, "canvas.size 200000");
    }

    [Test]
    public void SubpixelStepsWithoutEndAreRefused()
    {
        var text = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "configs", "plane-subpixel.yaml"))
            .Replace("step: 0.25", "step: 0.0000001").Replace("range: 4 ", "range: 2 ");
        string config = Path.Combine(scratch, "fine.yaml");
        File.WriteAllText(config, text);
        AssertRefused(TestCli.Run("dataset", "show", config), config, "offsets per axis");
    }

    [Test]
    public void ConfigThatIsADeviceOrHugeIsRefused()
    {
        Assume.That(File.Exists("/dev/zero"), "needs /dev/zero");
        AssertRefused(TestCli.Run([.. Run, "--dataset", "/dev/zero", "--out", Path.Combine(scratch, "out")]), "/dev/zero", "not a regular file");
        string big = Path.Combine(scratch, "big.yaml");
        File.WriteAllText(big, "name: big\n" + string.Concat(Enumerable.Repeat("# padding padding padding padding padding padding\n", 50_000)));
        AssertRefused(TestCli.Run("dataset", "show", big), big, "limit");
        AssertRefused(TestCli.Run("sweep", "/dev/zero"), "/dev/zero");
    }

    [Test]
    public void RunJsonWithAHugeGridIsRefusedByReport()
    {
        string outDir = Path.Combine(scratch, "out");
        CopyRun(constantOut, outDir);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(RunDir(outDir), RunLayout.RunJson)))!;
        json["grid"]!["rows"] = 2_000_000_000;
        File.WriteAllText(Path.Combine(RunDir(outDir), RunLayout.RunJson), json.ToJsonString());
        AssertRefused(TestCli.Run("report", outDir), RunLayout.RunJson, "grid 2000000000x1");
    }

    static void CopyRun(string fromOut, string toOut)
    {
        string from = RunDir(fromOut), to = RunDir(toOut);
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }
}
