using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using ShiftBench.Assets;

namespace ShiftBench.Tests;

/// <summary>AssetFetcher against a real HTTP server on 127.0.0.1 (AssetsTestServer), with a test manifest.</summary>
[Category(TestTier.Fast)]
public class AssetsFetcherTests
{
    AssetsTestServer server = null!;
    string root = null!;
    AssetPaths paths = null!;

    [SetUp]
    public void SetUp()
    {
        server = new AssetsTestServer();
        root = Directory.CreateTempSubdirectory("shiftbench-assets-").FullName;
        paths = new AssetPaths(Path.Combine(root, "weights"), Path.Combine(root, "data"));
    }

    [TearDown]
    public async Task TearDown()
    {
        await server.DisposeAsync();
        Directory.Delete(root, recursive: true);
    }

    static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    static string Sha256Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>A weights-style entry (8-hex published prefix) served at /name.</summary>
    AssetEntry Weights(string name, byte[] published) =>
        new(name, server.BaseUrl + name, Sha256Hex(published)[..8], published.Length, "test", AssetKind.Weights);

    /// <summary>A data-style entry (full hash) served at /name.</summary>
    AssetEntry Data(string name, byte[] published) =>
        new(name, server.BaseUrl + name, Sha256Hex(published), published.Length, "test", AssetKind.Data);

    FetchOptions Options() => new()
    {
        Paths = paths,
        MaxAttempts = 3,
        FirstRetryDelay = TimeSpan.Zero,
        StallTimeout = TimeSpan.FromSeconds(10),
        LockPollInterval = TimeSpan.FromMilliseconds(20),
    };

    static string[] FilesUnder(string dir) =>
        Directory.Exists(dir) ? [.. Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Select(Path.GetFileName).Order()!] : [];

    sealed class Recorder : IProgress<ProgressUpdate>
    {
        public readonly List<ProgressUpdate> Updates = [];
        public void Report(ProgressUpdate value) { lock (Updates) Updates.Add(value); }
    }

    [Test]
    public async Task DownloadsVerifiesAndPlacesEachFileInTheFolderOfItsKind()
    {
        byte[] weights = RandomBytes(300_000, 1), image = RandomBytes(5_000, 2);
        server.Route("/net-a.pth", AssetsTestServer.Body(weights));
        server.Route("/pic.png", AssetsTestServer.Body(image));
        var progress = new Recorder();

        var placed = await AssetFetcher.EnsureAsync([Weights("net-a.pth", weights), Data("pic.png", image)], Options(), progress);

        Assert.That(placed, Is.EqualTo(new[] { Path.Combine(paths.WeightsDir, "net-a.pth"), Path.Combine(paths.DataDir, "pic.png") }));
        Assert.That(File.ReadAllBytes(placed[0]), Is.EqualTo(weights));
        Assert.That(File.ReadAllBytes(placed[1]), Is.EqualTo(image));
        Assert.That(FilesUnder(root), Is.EqualTo(new[] { "net-a.pth", "pic.png" }), "no part or lock files are left");
        var last = progress.Updates.Last(u => u.Task == "net-a.pth");
        Assert.That((last.Done, last.Total, last.Unit), Is.EqualTo((300_000L, 300_000L, "bytes")));
    }

    [Test]
    public async Task PresentVerifiedFilesAreNotDownloadedAgain()
    {
        byte[] image = RandomBytes(4_000, 3);
        server.Route("/pic.png", AssetsTestServer.Body(image));
        await AssetFetcher.EnsureAsync([Data("pic.png", image)], Options());
        await AssetFetcher.EnsureAsync([Data("pic.png", image)], Options());
        Assert.That(server.RequestsFor("/pic.png"), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task ACorruptFileInPlaceIsReplacedByAVerifiedDownload()
    {
        byte[] image = RandomBytes(4_000, 4);
        server.Route("/pic.png", AssetsTestServer.Body(image));
        Directory.CreateDirectory(paths.DataDir);
        File.WriteAllBytes(Path.Combine(paths.DataDir, "pic.png"), RandomBytes(4_000, 5));

        var status = await AssetFetcher.CheckAsync(Data("pic.png", image), paths);
        Assert.That(status.State, Is.EqualTo(AssetState.Corrupt));
        await AssetFetcher.EnsureAsync([Data("pic.png", image)], Options());
        Assert.That(File.ReadAllBytes(Path.Combine(paths.DataDir, "pic.png")), Is.EqualTo(image));
    }

    [Test]
    public void AChecksumMismatchShowsBothHashesAndLeavesNothingBehind()
    {
        byte[] published = RandomBytes(50_000, 6), served = RandomBytes(50_000, 7);
        server.Route("/net-a.pth", AssetsTestServer.Body(served));
        var entry = Weights("net-a.pth", published);

        var error = Assert.ThrowsAsync<ShiftBenchException>(() => AssetFetcher.EnsureAsync([entry], Options()));

        Assert.That(error!.Message, Does.Contain("checksum mismatch").And.Contain(Sha256Hex(served)).And.Contain(entry.Sha256));
        Assert.That(FilesUnder(root), Is.Empty);
    }

    [Test]
    public void NotFoundIsAClearErrorAndIsNotRetried()
    {
        var entry = Data("absent.png", RandomBytes(10, 8));

        var error = Assert.ThrowsAsync<ShiftBenchException>(() => AssetFetcher.EnsureAsync([entry], Options()));

        Assert.That(error!.Message, Does.Contain("HTTP 404").And.Contain(entry.Url).And.Contain("absent.png"));
        Assert.That(server.RequestsFor("/absent.png"), Has.Count.EqualTo(1));
        Assert.That(FilesUnder(root), Is.Empty);
    }

    [Test]
    public async Task ServerErrorsAreRetriedWithBackoff()
    {
        byte[] image = RandomBytes(2_000, 9);
        server.Route("/pic.png", async (request, index, connection, stop) =>
        {
            if (index == 0)
                await connection.WriteAsync("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray(), stop);
            else
                await AssetsTestServer.SendAsync(connection, image, request.Range, stop);
        });

        await AssetFetcher.EnsureAsync([Data("pic.png", image)], Options());

        Assert.That(server.RequestsFor("/pic.png"), Has.Count.EqualTo(2));
        Assert.That(File.ReadAllBytes(Path.Combine(paths.DataDir, "pic.png")), Is.EqualTo(image));
    }

    [Test]
    public async Task AConnectionCutMidFileResumesWithARangeRequest()
    {
        byte[] weights = RandomBytes(400_000, 10);
        const int cut = 150_000;
        server.Route("/net-a.pth", AssetsTestServer.CutOnce(weights, cut));

        await AssetFetcher.EnsureAsync([Weights("net-a.pth", weights)], Options());

        var seen = server.RequestsFor("/net-a.pth");
        Assert.That(seen.Select(r => r.Range), Is.EqualTo(new[] { null, $"bytes={cut}-" }));
        Assert.That(File.ReadAllBytes(Path.Combine(paths.WeightsDir, "net-a.pth")), Is.EqualTo(weights));
    }

    [Test]
    public async Task APartFileLeftByAnEarlierProcessIsResumed()
    {
        byte[] weights = RandomBytes(200_000, 11);
        server.Route("/net-a.pth", AssetsTestServer.Body(weights));
        Directory.CreateDirectory(paths.WeightsDir);
        File.WriteAllBytes(Path.Combine(paths.WeightsDir, "net-a.pth.part"), weights[..70_000]);

        await AssetFetcher.EnsureAsync([Weights("net-a.pth", weights)], Options());

        Assert.That(server.RequestsFor("/net-a.pth").Select(r => r.Range), Is.EqualTo(new[] { "bytes=70000-" }));
        Assert.That(File.ReadAllBytes(Path.Combine(paths.WeightsDir, "net-a.pth")), Is.EqualTo(weights));
        Assert.That(FilesUnder(root), Is.EqualTo(new[] { "net-a.pth" }));
    }

    [Test]
    public void AStalledServerHitsTheTimeoutAndKeepsThePartForLater()
    {
        byte[] weights = RandomBytes(100_000, 12);
        server.Route("/net-a.pth", AssetsTestServer.Stall(weights, 30_000));
        var options = Options() with { StallTimeout = TimeSpan.FromMilliseconds(300), MaxAttempts = 2 };

        var error = Assert.ThrowsAsync<ShiftBenchException>(() => AssetFetcher.EnsureAsync([Weights("net-a.pth", weights)], options));

        Assert.That(error!.Message, Does.Contain("stalled").And.Contain("after 2 tries").And.Contain("net-a.pth"));
        // The second try asked for the rest; the kept bytes are the file's first 30000.
        Assert.That(server.RequestsFor("/net-a.pth").Select(r => r.Range), Is.EqualTo(new[] { null, "bytes=30000-" }));
        Assert.That(File.Exists(Path.Combine(paths.WeightsDir, "net-a.pth")), Is.False);
        Assert.That(File.ReadAllBytes(Path.Combine(paths.WeightsDir, "net-a.pth.part")), Is.EqualTo(weights[..30_000]));
    }

    [Test]
    public async Task TwoConcurrentFetchesOfOneAssetDownloadItOnce()
    {
        byte[] weights = RandomBytes(250_000, 13);
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondWaits = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Route("/net-a.pth", async (request, _, connection, stop) =>
        {
            arrived.TrySetResult();
            await release.Task.WaitAsync(stop);
            await AssetsTestServer.SendAsync(connection, weights, request.Range, stop);
        });
        var entry = Weights("net-a.pth", weights);

        var first = AssetFetcher.EnsureAsync([entry], Options());
        await arrived.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var second = AssetFetcher.EnsureAsync([entry], Options() with { WaitingForOtherDownload = _ => secondWaits.TrySetResult() });
        await secondWaits.Task.WaitAsync(TimeSpan.FromSeconds(30));
        release.SetResult();
        var results = await Task.WhenAll(first, second);

        Assert.That(results[0], Is.EqualTo(results[1]));
        Assert.That(File.ReadAllBytes(results[0][0]), Is.EqualTo(weights));
        Assert.That(server.RequestsFor("/net-a.pth"), Has.Count.EqualTo(1));
        Assert.That(FilesUnder(root), Is.EqualTo(new[] { "net-a.pth" }), "neither process leaves its lock file");
    }

    [Test]
    public void OfflineNamesEveryMissingFileAndNeverTouchesTheNetwork()
    {
        var entries = new[] { Weights("net-a.pth", RandomBytes(10, 14)), Data("pic.png", RandomBytes(10, 15)) };

        var error = Assert.ThrowsAsync<ShiftBenchException>(() => AssetFetcher.EnsureAsync(entries, Options() with { Offline = true }));

        Assert.That(error!.Message, Does.Contain("offline")
            .And.Contain($"net-a.pth from {entries[0].Url} into {paths.WeightsDir}")
            .And.Contain($"pic.png from {entries[1].Url} into {paths.DataDir}"));
        Assert.That(error.Message, Does.Not.Contain('\n'));
        Assert.That(server.Requests, Is.Empty);
        Assert.That(Directory.Exists(root) ? FilesUnder(root) : [], Is.Empty);
    }

    [Test]
    public void AnUnreachableHostStopsAtOnceNamingEveryMissingFile()
    {
        int closedPort = ClosedPort();
        var entries = new[]
        {
            new AssetEntry("net-a.pth", $"http://127.0.0.1:{closedPort}/net-a.pth", "0123abcd", null, "test", AssetKind.Weights),
            new AssetEntry("pic.png", $"http://127.0.0.1:{closedPort}/pic.png", "0123abcd", null, "test", AssetKind.Data),
        };
        int connects = 0;
        var handler = new SocketsHttpHandler
        {
            // Real connections, counted.
            ConnectCallback = async (context, cancellationToken) =>
            {
                Interlocked.Increment(ref connects);
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };

        var error = Assert.ThrowsAsync<ShiftBenchException>(() => AssetFetcher.EnsureAsync(entries, Options() with { Handler = handler }));

        Assert.That(error!.Message, Does.Contain($"cannot reach 127.0.0.1:{closedPort}")
            .And.Contain($"net-a.pth from {entries[0].Url} into {paths.WeightsDir}")
            .And.Contain($"pic.png from {entries[1].Url} into {paths.DataDir}"));
        Assert.That(connects, Is.EqualTo(1));
        Assert.That(FilesUnder(root), Is.Empty);
        handler.Dispose();
    }

    [Test]
    public async Task AMirrorServesEachFileUnderItsPublishedName()
    {
        byte[] image = RandomBytes(3_000, 16);
        server.Route("/copies/pic.png", AssetsTestServer.Body(image));
        var entry = new AssetEntry("pic.png", "http://unused.invalid/images/pic.png", Sha256Hex(image), null, "test", AssetKind.Data);

        await AssetFetcher.EnsureAsync([entry], Options() with { MirrorBaseUrl = server.BaseUrl + "copies" });

        Assert.That(server.Requests.Select(r => r.Path), Is.EqualTo(new[] { "/copies/pic.png" }));
        Assert.That(File.ReadAllBytes(Path.Combine(paths.DataDir, "pic.png")), Is.EqualTo(image));
    }

    /// <summary>A port nothing listens on: bound once by us, then released.</summary>
    internal static int ClosedPort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }
}
