using System.Globalization;
using System.Text;
using ShiftBench.Models;
using ShiftBench.Site;
using ShiftBench.Workflows;

namespace ShiftBench.Tests;

/// <summary>
/// `shiftbench reproduce` against site-style files made from a real run (synthetic weights, berry at
/// stride 31: 5x5 positions whose anchors are the site's). The files look like the site's: header
/// y,x,val, CRLF, all 125x125 stride-1 positions in y-major order, the run's values at the run's
/// positions and different ones elsewhere (so comparing any other position would fail).
/// </summary>
[NonParallelizable]
public class ReproduceTests
{
    const int SiteSize = 125; // berry: 125x125 shifts at stride 1
    const string Stride = "31";
    static readonly string[] StudyAnchors = ["tl", "tr", "c", "bl", "br"];
    // AlexNet's layers on the site (plotting.js: alexnetLayers), class published only with the br anchor.
    static readonly string[] AlexNetCosineLayers = ["fc6", "fc6relu", "fc7", "fc7relu", "fc"];

    TestPaths.TempDir root = null!;
    string outDir = null!, runDir = null!, siteDir = null!;

    /// <summary>(site file name, our run file) for the torchvision AlexNet on berry, as the site names them.</summary>
    static IEnumerable<(string Site, string Run)> AlexNetBerryFiles() =>
        AlexNetCosineLayers.SelectMany(l => StudyAnchors.Select(a => ($"alexnet-{l}-berry-{a}-d3.csv", $"cos-{l}-{a}.csv")))
            .Append(("alexnet-class-berry-br-d3.csv", "class.csv"));

    static string[] Reproduce(params string[] extra) =>
        ["reproduce", "--model", "alexnet", "--dataset", "berry", "--variant", "torchvision", "--weights", "deterministic", "--stride", Stride, .. extra];

    [OneTimeSetUp]
    public void MakeRunAndSiteFiles()
    {
        root = TestPaths.NewTempDir();
        outDir = Path.Combine(root, "out");
        var run = TestCli.Run("run", "--model", "alexnet", "--dataset", "berry", "--variant", "torchvision", "--weights", "deterministic",
            "--stride", Stride, "--out", outDir);
        Assert.That(run.Code, Is.EqualTo(0), run.Stderr);
        runDir = Path.Combine(outDir, "berry", "alexnet", "torchvision");
        siteDir = Path.Combine(root, "site");
        Directory.CreateDirectory(siteDir);
        foreach (var (site, ours) in AlexNetBerryFiles())
            File.WriteAllBytes(Path.Combine(siteDir, site), SiteFileFrom(Path.Combine(runDir, ours)));
    }

    [OneTimeTearDown]
    public void CleanUp() => root.Dispose();

    /// <summary>Our run's grid CSV (y,x,val at stride 31) as a site file: every stride-1 position, CRLF.</summary>
    static byte[] SiteFileFrom(string runCsv, Func<int, int, string, string>? edit = null)
    {
        var ours = File.ReadLines(runCsv).Skip(1).Select(l => l.Split(',')).ToDictionary(p => (int.Parse(p[0]), int.Parse(p[1])), p => p[2]);
        Assert.That(ours, Has.Count.EqualTo(25), runCsv);
        var text = new StringBuilder("y,x,val\r\n");
        for (int y = 0; y < SiteSize; y++)
            for (int x = 0; x < SiteSize; x++)
            {
                string value = ours.TryGetValue((y, x), out var v) ? v : (0.25 + 0.001 * ((y * 7 + x) % 11)).ToString("R", CultureInfo.InvariantCulture);
                text.Append(CultureInfo.InvariantCulture, $"{y},{x},{(edit is null ? value : edit(y, x, value))}\r\n");
            }
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    string NewSiteCopy(string name)
    {
        string dir = Path.Combine(root, "copies", name);
        Directory.CreateDirectory(dir);
        foreach (var file in Directory.GetFiles(siteDir))
            File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        return dir;
    }

    /// <summary>Sets one value of a site file (at pixel y, x) to f(old value).</summary>
    static void Tamper(string siteFile, int y, int x, Func<double, double> f)
    {
        var lines = File.ReadAllLines(siteFile);
        int index = Array.FindIndex(lines, l => l.StartsWith($"{y},{x},"));
        Assert.That(index, Is.GreaterThan(0));
        double old = double.Parse(lines[index].Split(',')[2], CultureInfo.InvariantCulture);
        lines[index] = $"{y},{x},{f(old).ToString("R", CultureInfo.InvariantCulture)}";
        File.WriteAllText(siteFile, string.Join("\r\n", lines) + "\r\n");
    }

    /// <summary>The stdout table: file -> its columns by header name.</summary>
    static Dictionary<string, Dictionary<string, string>> Table(string stdout)
    {
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var header = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(header, Is.EqualTo(new[] { "file", "max_abs_diff", "mean_abs_diff", "max_rel_diff", "positions", "tolerance", "result" }));
        return lines.Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(cells => cells[0], cells => header.Zip(cells).ToDictionary(p => p.First, p => p.Second));
    }

    static double Number(string cell) => double.Parse(cell, CultureInfo.InvariantCulture);

    [Test]
    [Category(TestTier.Fast)]
    public void TheSiteTableNamesEveryPublishedFile()
    {
        // Facts from the site (plotting.js and data/csv/): model names, layers per model, class only at br.
        var expected = new Dictionary<string, string[]>
        {
            ["alexnet"] = ["fc6", "fc6relu", "fc7", "fc7relu", "fc", "class"],
            ["vgg16"] = ["fc6", "fc6relu", "fc7", "fc7relu", "fc", "class"],
            ["resnet50"] = ["fc", "class"],
            ["mobilev2"] = ["fc", "class"],
        };
        // The site has the study's four networks in its two variants; other zoo entries are refused.
        foreach (var entry in ModelRegistry.All.Where(e => e.VariantName is ModelVariant.Torchvision or ModelVariant.Antialiased
                     && e.Model is "alexnet" or "vgg16" or "resnet50" or "mobilenet_v2"))
        {
            string site = entry.Model == "mobilenet_v2" ? "mobilev2" : entry.Model;
            string aa = entry.Variant == ModelVariant.Antialiased ? "AA" : "";
            var names = expected[site].SelectMany(l => l == "class"
                ? [$"{site}{aa}-class-plane-br-d3.csv"]
                : StudyAnchors.Select(a => $"{site}{aa}-{l}-plane-{a}-d3.csv"));
            Assert.That(StudySite.Files(entry, "plane").Select(f => f.FileName), Is.EquivalentTo(names), $"{entry.Model} {entry.VariantName}");
        }
        Assert.That(() => StudySite.Files(ModelRegistry.Find("alexnet", "antialiased-lpf3"), "plane"),
            Throws.TypeOf<ShiftBenchException>().With.Message.Contain("antialiased-lpf3"));
        Assert.That(StudySite.Files(ModelRegistry.Find("alexnet", ModelVariant.Torchvision), "berry").Select(f => (f.FileName, f.RunFile)),
            Is.EquivalentTo(AlexNetBerryFiles()));
    }

    [Test]
    [Category(TestTier.Fast)]
    public void PassesOnMatchingFilesInAFolder()
    {
        var (code, stdout, stderr) = TestCli.Run(Reproduce("--out", outDir, "--site", siteDir));
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stderr, Does.Contain("already complete"), "the complete run in --out is used, not run again");
        var table = Table(stdout);
        Assert.That(table.Keys, Is.EquivalentTo(AlexNetBerryFiles().Select(f => f.Site)));
        foreach (var (file, row) in table)
        {
            Assert.That(row["result"], Is.EqualTo("ok"), file);
            Assert.That(row["positions"], Is.EqualTo("25"), file);
            Assert.That(Number(row["max_abs_diff"]), Is.EqualTo(0), file);
        }
        Assert.That(table["alexnet-class-berry-br-d3.csv"]["tolerance"], Is.EqualTo("rel<=1.000e-03"));
        Assert.That(table["alexnet-fc7-berry-c-d3.csv"]["tolerance"], Is.EqualTo("abs<=1.000e-04"));
    }

    [Test]
    [Category(TestTier.Fast)]
    public void FailsNamingTheFileWhenOneCosineValueIsOffBeyondTolerance()
    {
        string site = NewSiteCopy("cosine");
        const string file = "alexnet-fc7-berry-c-d3.csv";
        Tamper(Path.Combine(site, file), 93, 31, v => v + 2e-4);

        var (code, stdout, stderr) = TestCli.Run(Reproduce("--out", outDir, "--site", site));
        Assert.That(code, Is.EqualTo(1), stderr);
        var table = Table(stdout);
        Assert.That(table.Where(r => r.Value["result"] == "FAIL").Select(r => r.Key), Is.EqualTo(new[] { file }));
        Assert.That(Number(table[file]["max_abs_diff"]), Is.EqualTo(2e-4).Within(1e-6));
        Assert.That(Number(table[file]["mean_abs_diff"]), Is.EqualTo(2e-4 / 25).Within(1e-7));
        Assert.That(stderr, Does.Contain(file).And.Contain("y=93,x=31"));

        var looser = TestCli.Run(Reproduce("--out", outDir, "--site", site, "--cos-atol", "3e-4"));
        Assert.That(looser.Code, Is.EqualTo(0), "--cos-atol widens the cosine tolerance: " + looser.Stderr);
    }

    [Test]
    [Category(TestTier.Fast)]
    public void AClassValueIsJudgedRelatively()
    {
        string site = NewSiteCopy("class");
        const string file = "alexnet-class-berry-br-d3.csv";
        Tamper(Path.Combine(site, file), 0, 62, v => v * (1 + 3e-3));

        var (code, stdout, stderr) = TestCli.Run(Reproduce("--out", outDir, "--site", site));
        Assert.That(code, Is.EqualTo(1), stderr);
        var table = Table(stdout);
        Assert.That(table[file]["result"], Is.EqualTo("FAIL"));
        Assert.That(Number(table[file]["max_rel_diff"]), Is.EqualTo(3e-3 / (1 + 3e-3)).Within(1e-6));
        Assert.That(stderr, Does.Contain(file));

        var looser = TestCli.Run(Reproduce("--out", outDir, "--site", site, "--class-rtol", "4e-3"));
        Assert.That(looser.Code, Is.EqualTo(0), looser.Stderr);
    }

    [Test]
    public void DownloadsIntoTheCacheAndReusesItWithoutTheServer()
    {
        string cache = Path.Combine(root, "cache-reuse");
        string siteUrl;
        var server = new AssetsTestServer();
        try
        {
            foreach (var file in Directory.GetFiles(siteDir))
                server.Route("/csv/" + Path.GetFileName(file), AssetsTestServer.Body(File.ReadAllBytes(file)));
            siteUrl = server.BaseUrl + "csv/";
            var online = new Dictionary<string, string?> { ["SHIFTBENCH_OFFLINE"] = null };
            var first = TestCli.RunWith(online, Reproduce("--out", outDir, "--site", siteUrl, "--cache", cache));
            Assert.That(first.Code, Is.EqualTo(0), first.Stderr);
            Assert.That(server.Requests.Select(r => r.Path), Is.EquivalentTo(AlexNetBerryFiles().Select(f => "/csv/" + f.Site)),
                "each site file is fetched once");
        }
        finally
        {
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        var cached = Directory.GetFiles(cache, "*", SearchOption.AllDirectories);
        Assert.That(cached.Select(Path.GetFileName), Is.EquivalentTo(AlexNetBerryFiles().Select(f => f.Site)), "only whole files, no .part or .lock");
        Assert.That(File.ReadAllBytes(cached.Single(f => f.EndsWith("alexnet-fc-berry-tl-d3.csv"))),
            Is.EqualTo(File.ReadAllBytes(Path.Combine(siteDir, "alexnet-fc-berry-tl-d3.csv"))));

        // The server is gone and the CLI is offline: the cached files are used.
        var second = TestCli.Run(Reproduce("--out", outDir, "--site", siteUrl, "--cache", cache));
        Assert.That(second.Code, Is.EqualTo(0), second.Stderr);
        Assert.That(Table(second.Stdout), Has.Count.EqualTo(26));
    }

    [Test]
    public async Task AMissingSiteFileIsOneErrorNamingItsUrl()
    {
        const string missing = "alexnet-fc6relu-berry-bl-d3.csv";
        await using var server = new AssetsTestServer();
        foreach (var file in Directory.GetFiles(siteDir).Where(f => Path.GetFileName(f) != missing))
            server.Route("/" + Path.GetFileName(file), AssetsTestServer.Body(File.ReadAllBytes(file)));
        string cache = Path.Combine(root, "cache-missing");
        var (code, stdout, stderr) = TestCli.RunWith(new Dictionary<string, string?> { ["SHIFTBENCH_OFFLINE"] = null },
            Reproduce("--out", outDir, "--site", server.BaseUrl, "--cache", cache));
        Assert.That(code, Is.EqualTo(2), stderr);
        Assert.That(stdout, Is.Empty);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("error:")).ToList();
        Assert.That(lines, Has.Count.EqualTo(1), stderr);
        Assert.That(lines[0], Does.Contain(server.BaseUrl + missing).And.Contain("404"));
        Assert.That(Directory.GetFiles(cache, missing + "*", SearchOption.AllDirectories), Is.Empty);

        // The same from a folder: the missing file's path is named.
        string folder = NewSiteCopy("missing");
        File.Delete(Path.Combine(folder, missing));
        var fromFolder = TestCli.Run(Reproduce("--out", outDir, "--site", folder));
        Assert.That(fromFolder.Code, Is.EqualTo(2));
        Assert.That(fromFolder.Stderr.Trim(), Does.StartWith("error:").And.Contain(Path.Combine(folder, missing)));
    }

    [Test]
    public async Task AMalformedSiteFileIsOneErrorNamingItsUrlAndIsNotCached()
    {
        const string broken = "alexnet-fc-berry-c-d3.csv";
        var whole = File.ReadAllBytes(Path.Combine(siteDir, broken));
        // The file ends early, after a whole line: a cut-off copy of the site's grid.
        int end = Array.LastIndexOf(whole, (byte)'\n', whole.Length / 2) + 1;
        var cut = whole[..end];
        await using var server = new AssetsTestServer();
        foreach (var file in Directory.GetFiles(siteDir))
            server.Route("/" + Path.GetFileName(file), AssetsTestServer.Body(Path.GetFileName(file) == broken ? cut : File.ReadAllBytes(file)));
        string cache = Path.Combine(root, "cache-malformed");
        var (code, stdout, stderr) = TestCli.RunWith(new Dictionary<string, string?> { ["SHIFTBENCH_OFFLINE"] = null },
            Reproduce("--out", outDir, "--site", server.BaseUrl, "--cache", cache));
        Assert.That(code, Is.EqualTo(2), stderr);
        Assert.That(stdout, Is.Empty);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("error:")).ToList();
        Assert.That(lines, Has.Count.EqualTo(1), stderr);
        Assert.That(lines[0], Does.Contain(server.BaseUrl + broken).And.Contain("of the 15625 positions"));
        Assert.That(Directory.GetFiles(cache, broken + "*", SearchOption.AllDirectories), Is.Empty, "a malformed download is not kept");

        // A wrong header in a folder's file names that file.
        string folder = NewSiteCopy("malformed");
        File.WriteAllText(Path.Combine(folder, broken), "row,col,value\r\n0,0,1.0\r\n");
        var fromFolder = TestCli.Run(Reproduce("--out", outDir, "--site", folder));
        Assert.That(fromFolder.Code, Is.EqualTo(2));
        Assert.That(fromFolder.Stderr.Trim(), Does.StartWith("error:").And.Contain(Path.Combine(folder, broken)).And.Contain("header"));
    }

    [Test]
    public void RunsWhatIsMissingThenCompares()
    {
        string fresh = Path.Combine(root, "fresh-out");
        var (code, stdout, stderr) = TestCli.Run(Reproduce("--out", fresh, "--site", siteDir));
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stderr, Does.Contain("25 positions"), "the run was made");
        Assert.That(File.Exists(Path.Combine(fresh, "berry", "alexnet", "torchvision", "run.json")));
        Assert.That(Table(stdout).Values.All(r => r["result"] == "ok"));
    }

    [Test]
    public void RefusesAStrideWhoseAnchorsAreNotTheSitesBeforeAnyWork()
    {
        string fresh = Path.Combine(root, "stride-out");
        var (code, _, stderr) = TestCli.Run("reproduce", "--model", "alexnet", "--dataset", "berry", "--weights", "deterministic",
            "--stride", "4", "--out", fresh, "--site", siteDir);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr.Trim(), Does.StartWith("error: --stride 4").And.Contain("c at 64,64 instead of 62,62").And.Contain("1, 2, 31, 62"));
        Assert.That(Directory.Exists(fresh), Is.False, "nothing ran");
    }
}
