using System.CommandLine;
using ShiftBench.Assets;
using ShiftBench.Cli.Commands;

namespace ShiftBench.Tests;

/// <summary>`shiftbench fetch` run in-process (console and environment swapped, so not in parallel).</summary>
[NonParallelizable]
[Category(TestTier.Fast)]
public class AssetsCliTests
{
    string root = null!, weightsDir = null!, dataDir = null!;
    readonly Dictionary<string, string?> savedEnvironment = [];

    [SetUp]
    public void SetUp()
    {
        root = Directory.CreateTempSubdirectory("shiftbench-fetch-cli-").FullName;
        weightsDir = Path.Combine(root, "w");
        dataDir = Path.Combine(root, "d");
        foreach (var name in new[] { FetchOptions.OfflineVariable, FetchOptions.MirrorVariable })
        {
            savedEnvironment[name] = Environment.GetEnvironmentVariable(name);
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    [TearDown]
    public void TearDown()
    {
        foreach (var (name, value) in savedEnvironment)
            Environment.SetEnvironmentVariable(name, value);
        Directory.Delete(root, recursive: true);
    }

    static string SharedData() =>
        Environment.GetEnvironmentVariable(AssetPaths.DataVariable) is { Length: > 0 } dir && Directory.Exists(dir)
            ? dir
            : throw new IgnoreException("SHIFTBENCH_DATA is not set to the folder with the study's images");

    static async Task<(int Exit, string Out, string Err)> Shiftbench(params string[] args)
    {
        var root = new RootCommand();
        foreach (var command in CommandCatalog.All())
            root.Subcommands.Add(command);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            int exit = await root.Parse(args).InvokeAsync();
            return (exit, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    [Test]
    public async Task ListShowsPresentMissingAndCorruptAssets()
    {
        Directory.CreateDirectory(dataDir);
        File.Copy(Path.Combine(SharedData(), "plane.png"), Path.Combine(dataDir, "plane.png"));
        File.WriteAllText(Path.Combine(dataDir, "berry_transparent.png"), "not the berry");

        var (exit, output, _) = await Shiftbench("fetch", "--list", "--weights-dir", weightsDir, "--data-dir", dataDir);

        Assert.That(exit, Is.EqualTo(0));
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(AssetManifest.BuiltIn.Entries.Count));
        Assert.That(lines, Has.One.Match($@"^present\s+data\s+{Regex(Path.Combine(dataDir, "plane.png"))}"));
        Assert.That(lines, Has.One.Match($@"^corrupt\s+data\s+{Regex(Path.Combine(dataDir, "berry_transparent.png"))}\s+sha256 [0-9a-f]{{64}} does not match 187b35ac"));
        foreach (var weights in AssetManifest.BuiltIn.Entries.Where(e => e.Kind == AssetKind.Weights))
            Assert.That(lines, Has.One.Match($@"^missing\s+weights\s+{Regex(Path.Combine(weightsDir, weights.FileName))}\s+{Regex(weights.Url)}$"));
    }

    [Test]
    public async Task VerifyFailsOnACorruptAsset()
    {
        Directory.CreateDirectory(dataDir);
        File.WriteAllText(Path.Combine(dataDir, "plane.png"), "not the plane");

        var (exit, _, error) = await Shiftbench("fetch", "--verify", "--dataset", "plane", "--data-dir", dataDir);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.StartWith("error: 1 corrupt asset(s): " + Path.Combine(dataDir, "plane.png")));
    }

    [Test]
    public async Task FetchDownloadsADatasetsImagesFromAMirror()
    {
        byte[] plane = File.ReadAllBytes(Path.Combine(SharedData(), "plane.png"));
        await using var server = new AssetsTestServer();
        server.Route("/plane.png", AssetsTestServer.Body(plane));
        Environment.SetEnvironmentVariable(FetchOptions.MirrorVariable, server.BaseUrl);

        var (exit, output, error) = await Shiftbench("fetch", "--dataset", "plane", "--data-dir", dataDir, "--weights-dir", weightsDir);

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(output.Trim(), Does.Match($@"^ready\s+{Regex(Path.Combine(dataDir, "plane.png"))}$"));
        Assert.That(File.ReadAllBytes(Path.Combine(dataDir, "plane.png")), Is.EqualTo(plane));
        Assert.That(server.Requests.Select(r => r.Path), Is.EqualTo(new[] { "/plane.png" }));
    }

    [Test]
    public async Task OfflineFetchFailsWithTheFixAndNoRequest()
    {
        await using var server = new AssetsTestServer();
        Environment.SetEnvironmentVariable(FetchOptions.MirrorVariable, server.BaseUrl);

        var (exit, _, error) = await Shiftbench("fetch", "--offline", "--dataset", "berry", "--data-dir", dataDir);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error.Trim(), Does.StartWith("error: offline")
            .And.Contain($"berry_transparent.png from {server.BaseUrl}berry_transparent.png into {dataDir}"));
        Assert.That(error.Trim(), Does.Not.Contain('\n'));
        Assert.That(server.Requests, Is.Empty);
    }

    [Test]
    public async Task AnUnreachableMirrorFailsWithOneClearMessage()
    {
        int port = AssetsFetcherTests.ClosedPort();
        Environment.SetEnvironmentVariable(FetchOptions.MirrorVariable, $"http://127.0.0.1:{port}/");

        var (exit, _, error) = await Shiftbench("fetch", "--dataset", "plane", "--data-dir", dataDir);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error.Trim(), Does.StartWith($"error: cannot reach 127.0.0.1:{port}")
            .And.Contain($"plane.png from http://127.0.0.1:{port}/plane.png into {dataDir}"));
        Assert.That(Directory.Exists(dataDir) ? Directory.GetFiles(dataDir) : [], Is.Empty);
    }

    [Test]
    public async Task FetchWithoutASelectionSaysWhatToName()
    {
        var (exit, _, error) = await Shiftbench("fetch", "--weights-dir", weightsDir);
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("--model").And.Contain("--dataset").And.Contain("--all"));
    }

    static string Regex(string literal) => System.Text.RegularExpressions.Regex.Escape(literal);
}
