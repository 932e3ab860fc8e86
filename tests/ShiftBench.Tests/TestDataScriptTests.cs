using System.Diagnostics;
using ShiftBench.Assets;
using ShiftBench.Output;

namespace ShiftBench.Tests;

/// <summary>
/// tools/test-data.sh, which ./test.sh runs before the suite: in a copy of the repository with nothing beside
/// it (a newcomer's fresh clone) it downloads the study's images through the real fetcher from a mirror on
/// 127.0.0.1, and with no way to get them it stops with one line saying how to provide them.
/// </summary>
[Category(TestTier.Fast)]
public class TestDataScriptTests
{
    static readonly string[] Images = ["berry_transparent.png", "plane.png"];

    /// <summary>A folder laid out like a clone (tools/test-data.sh only) inside a fresh temporary folder.</summary>
    static string NewClone(string parent)
    {
        string clone = Path.Combine(parent, "clone");
        Directory.CreateDirectory(Path.Combine(clone, "tools"));
        File.Copy(Path.Combine(TestPaths.RepoRoot, "tools", "test-data.sh"), Path.Combine(clone, "tools", "test-data.sh"));
        return clone;
    }

    static (int Code, string Stdout, string Stderr) RunScript(string clone, IReadOnlyDictionary<string, string?> environment)
    {
        // Without SHIFTBENCH_DATA (./test.sh exports it for the suite; a newcomer has none), mirror or offline switch.
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false }.Isolate();
        info.ArgumentList.Add(Path.Combine(clone, "tools", "test-data.sh"));
        info.Environment["SHIFTBENCH_CLI"] = "dotnet " + Path.Combine(AppContext.BaseDirectory, "shiftbench.dll");
        info.Environment["CI"] = "true";
        foreach (var (key, value) in environment) info.Environment[key] = value;
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Trim(), stderr.Result.Trim());
    }

    [Test]
    public async Task AFreshCloneFetchesTheImagesFromTheMirrorAndVerifiesThem()
    {
        using var parent = TestPaths.NewTempDir();
        string clone = NewClone(parent);
        await using var server = new AssetsTestServer();
        foreach (var image in Images)
            server.Route("/" + image, AssetsTestServer.Body(File.ReadAllBytes(Path.Combine(TestPaths.DataDir, image))));

        var (code, stdout, stderr) = RunScript(clone, new Dictionary<string, string?> { [FetchOptions.MirrorVariable] = server.BaseUrl });

        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stdout, Is.EqualTo(Path.Combine(clone, "data")));
        foreach (var image in Images)
        {
            Assert.That(server.RequestsFor("/" + image), Is.Not.Empty, image + " came from the mirror");
            var asset = AssetManifest.BuiltIn.Find(image)!;
            Assert.That(asset.Matches(FileHash.Sha256(Path.Combine(clone, "data", image))), image + " has the published SHA-256");
        }

        // A second run finds them in data/ and asks nobody.
        int requests = server.Requests.Count;
        var again = RunScript(clone, new Dictionary<string, string?> { [FetchOptions.MirrorVariable] = server.BaseUrl });
        Assert.That((again.Code, again.Stdout), Is.EqualTo((0, Path.Combine(clone, "data"))));
        Assert.That(server.Requests, Has.Count.EqualTo(requests));
    }

    [Test]
    public void SharedDataBesideTheCloneIsUsedWithoutFetching()
    {
        using var parent = TestPaths.NewTempDir();
        string clone = NewClone(parent);
        string shared = Path.Combine(parent, "shared", "data");
        Directory.CreateDirectory(shared);
        foreach (var image in Images) File.Copy(Path.Combine(TestPaths.DataDir, image), Path.Combine(shared, image));

        var (code, stdout, stderr) = RunScript(clone, new Dictionary<string, string?> { [FetchOptions.OfflineVariable] = "1" });

        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stdout, Is.EqualTo(shared));
        Assert.That(Directory.Exists(Path.Combine(clone, "data")), Is.False);
    }

    [TestCase("offline")]
    [TestCase("mirror without the files")]
    public async Task WithNoWayToGetTheImagesItStopsWithOneLineSayingHowToProvideThem(string situation)
    {
        using var parent = TestPaths.NewTempDir();
        string clone = NewClone(parent);
        await using var server = new AssetsTestServer(); // no routes: every file is 404
        var environment = situation == "offline"
            ? new Dictionary<string, string?> { [FetchOptions.OfflineVariable] = "1" }
            : new Dictionary<string, string?> { [FetchOptions.MirrorVariable] = server.BaseUrl };

        var (code, stdout, stderr) = RunScript(clone, environment);

        Assert.That(code, Is.EqualTo(1));
        Assert.That(stdout, Is.Empty);
        Assert.That(stderr.Split('\n'), Has.Length.EqualTo(1), stderr);
        Assert.That(stderr, Does.StartWith("error: the study's images (berry_transparent.png plane.png) are not in $SHIFTBENCH_DATA, ../shared/data or data/")
            .And.Contain("set SHIFTBENCH_DATA").And.Contain("SHIFTBENCH_MIRROR"));
        Assert.That(Directory.Exists(Path.Combine(clone, "data")) && Directory.EnumerateFiles(Path.Combine(clone, "data"), "*.png").Any(), Is.False,
            "no half-fetched image is left as if whole");
    }
}
