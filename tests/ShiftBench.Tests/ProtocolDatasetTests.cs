using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using ShiftBench.Datasets;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace ShiftBench.Tests;

/// <summary>
/// Kinds `roll` and `subpixel` against Fixtures/protocols/protocol-renderings.json, made by NumPy/PyTorch/OpenCV
/// (tools/fixtures/make_protocol_fixtures.py): SHA-256 of every rendered 8-bit image, byte for byte.
/// </summary>
[Category(TestTier.Fast)]
public class ProtocolDatasetTests
{
    static JsonElement Fixture => JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("protocols", "protocol-renderings.json"))).RootElement;

    static IEnumerable<string> CaseNames() =>
        Fixture.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("name").GetString()!);

    /// <summary>The fixture script's synthetic(): (7*y*y + 13*x + 31*c + 3*x*y) % 256, 40x40 RGB.</summary>
    static void SaveSynthetic(string path)
    {
        using var image = new Image<Rgba32>(40, 40);
        byte V(int y, int x, int c) => (byte)((7 * y * y + 13 * x + 31 * c + 3 * x * y) % 256);
        for (int y = 0; y < 40; y++)
            for (int x = 0; x < 40; x++)
                image[x, y] = new Rgba32(V(y, x, 0), V(y, x, 1), V(y, x, 2), 255);
        image.SaveAsPng(path);
    }

    static string Sha(Tensor chw8)
    {
        using var bytes = chw8.to(ScalarType.Byte).contiguous();
        return Convert.ToHexStringLower(SHA256.HashData(bytes.data<byte>().ToArray()));
    }

    [Test]
    public void SyntheticSourceMatchesTheFixtureGenerator()
    {
        using var dir = TestPaths.NewTempDir();
        SaveSynthetic(Path.Combine(dir, "synthetic.png"));
        using var raw = SourceImage.LoadRgba(Path.Combine(dir, "synthetic.png"));
        using var rgb = raw[..3].contiguous();
        Assert.That(Sha(rgb), Is.EqualTo(Fixture.GetProperty("synthetic_sha256").GetString()));
    }

    [TestCaseSource(nameof(CaseNames))]
    public void RenderingsMatchNumPyByteForByte(string name)
    {
        var c = Fixture.GetProperty("cases").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        using var dir = TestPaths.NewTempDir();
        string source = c.GetProperty("source").GetString()!;
        string dataDir = dir;
        if (source == "synthetic") { source = "synthetic.png"; SaveSynthetic(Path.Combine(dir, source)); }
        else dataDir = TestPaths.DataDir;
        var positions = c.GetProperty("positions").EnumerateArray()
            .Select(p => (Y: p.GetProperty("y").GetInt32(), X: p.GetProperty("x").GetInt32(), Sha: p.GetProperty("sha256").GetString()!)).ToList();
        string kind = c.GetProperty("kind").GetString()!;
        string yaml = $"kind: {kind}\nsource: {source}\nresize: {c.GetProperty("resize").GetInt32()}\ncanvas: {{size: {c.GetProperty("canvas").GetInt32()}}}\n";
        if (kind == DatasetConfig.SubpixelKind)
        {
            double step = c.GetProperty("step").GetDouble();
            double range = positions.Max(p => Math.Max(p.Y, p.X)) * step;
            yaml += string.Format(CultureInfo.InvariantCulture, "step: {0:R}\nrange: {1:R}\nmethod: {2}\n", step, range, c.GetProperty("method").GetString());
        }
        var config = DatasetConfig.Parse(yaml, name + ".yaml");
        using var dataset = ShiftDataset.Open(config, dataDir);
        Assert.That(positions, Has.Count.GreaterThan(1));
        foreach (var (y, x, sha) in positions)
        {
            using var image = dataset.Render8Bit(y, x);
            Assert.That(Sha(image), Is.EqualTo(sha), $"{name} at grid offset y={y}, x={x}");
        }
    }

    [Test]
    public void RollGridCoversEveryCircularShiftOrMaxShiftAndBatchesNormaliseTheRenderings()
    {
        using var dir = TestPaths.NewTempDir();
        SaveSynthetic(Path.Combine(dir, "s.png"));
        var every = DatasetConfig.Parse("kind: roll\nsource: s.png\nresize: 36\ncanvas: {size: 32}\n", "r.yaml");
        Assert.That(every.Offsets(1), Is.EqualTo(Enumerable.Range(0, 32).ToArray()));
        var some = DatasetConfig.Parse("kind: roll\nsource: s.png\ncanvas: {size: 32}\nmax_shift: 8\n", "r.yaml");
        Assert.That(some.Offsets(4), Is.EqualTo(new[] { 0, 4, 8 }));

        var sub = DatasetConfig.Parse("kind: subpixel\nsource: s.png\ncanvas: {size: 32}\nstep: 0.25\nrange: 1\nmethod: bilinear\n", "s.yaml");
        Assert.That(sub.Offsets(1), Is.EqualTo(new[] { 0, 1, 2, 3, 4 }), "subpixel offsets count steps");
        Assert.That(sub.OffsetUnitPx, Is.EqualTo(0.25));
        using var dataset = ShiftDataset.Open(sub, dir);
        using var batch = dataset.Batch(6, 2);   // grid offsets (1,1) and (1,2)
        using var one = dataset.Render8Bit(1, 2);
        using var single = dataset.Batch(7, 1);
        Assert.That(batch.shape, Is.EqualTo(new long[] { 2, 3, 32, 32 }));
        using var expected = single[0].clone();
        Assert.That(batch[1].sub(expected).abs().max().item<float>(), Is.EqualTo(0f));
        Assert.That(batch[0].sub(expected).abs().max().item<float>(), Is.GreaterThan(0f), "(1,1) differs from (1,2)");
        Assert.That(one.max().item<float>(), Is.GreaterThan(1f), "a real image, not an empty one");
    }

    [TestCase("kind: subpixel\nsource: s.png\nstep: 0.5\nmethod: fourier\n", "needs range")]
    [TestCase("kind: subpixel\nsource: s.png\nrange: 2\nmethod: fourier\n", "needs step")]
    [TestCase("kind: subpixel\nsource: s.png\nstep: 0\nrange: 2\nmethod: fourier\n", "step 0 must be a positive")]
    [TestCase("kind: subpixel\nsource: s.png\nstep: -0.5\nrange: 2\nmethod: fourier\n", "step -0.5 must be a positive")]
    [TestCase("kind: subpixel\nsource: s.png\nstep: 0.5\nrange: 2\n", "needs method")]
    [TestCase("kind: subpixel\nsource: s.png\nstep: 0.5\nrange: 2\nmethod: lanczos\n", "method 'lanczos' is unknown; use fourier or bilinear")]
    [TestCase("kind: subpixel\nsource: s.png\nstep: 0.3\nrange: 1\nmethod: fourier\n", "range 1 is not a whole number of steps")]
    [TestCase("kind: subpixel\nsource: s.png\nstep: 0.5\nrange: 40\nmethod: fourier\n", "range 40 must be smaller than canvas.size 32")]
    [TestCase("kind: subpixel\nstep: 0.5\nrange: 2\nmethod: fourier\n", "kind 'subpixel' needs source")]
    [TestCase("kind: roll\nsource: s.png\nmax_shift: 32\n", "max_shift 32 must be within 0..31")]
    [TestCase("kind: roll\nsource: s.png\nstep: 0.5\n", "kind 'roll' takes max_shift")]
    [TestCase("kind: roll\nsource: s.png\nresize: 20\n", "resize 20 is smaller than canvas.size 32")]
    [TestCase("kind: roll\n", "kind 'roll' needs source")]
    [TestCase("kind: rolled\nsource: s.png\n", "unknown kind 'rolled'; use 'patch', 'crop', 'patches', 'roll', 'subpixel'")]
    public void BadConfigsSayWhichFieldInOneLine(string body, string expected)
    {
        var e = Assert.Throws<ShiftBenchException>(() => DatasetConfig.Parse(body + "canvas: {size: 32}\n", "bad.yaml"))!;
        Assert.That(e.Message, Does.StartWith("bad.yaml: "));
        Assert.That(e.Message, Does.Contain(expected));
        Assert.That(e.Message, Does.Not.Contain('\n'));
    }

    [Test]
    public void RunAndReportWorkOnRollAndSubpixelEndToEnd()
    {
        using var root = TestPaths.NewTempDir();
        string outDir = Path.Combine(root, "out");
        foreach (var dataset in new[] { "plane-roll", "plane-subpixel" })
        {
            var run = TestCli.Run("run", "--model", "alexnet", "--dataset", dataset, "--variant", "torchvision", "--weights", "deterministic",
                "--stride", "16", "--layers", "fc7,class", "--data-dir", TestPaths.DataDir, "--out", outDir);
            Assert.That(run.Code, Is.EqualTo(0), run.Stderr);
            string runDir = Path.Combine(outDir, dataset, "alexnet", "torchvision");
            var rows = Output.GridCsv.Read(Path.Combine(runDir, "class.csv"));
            Assert.That(rows.Offsets, Is.EqualTo(new[] { 0, 16 }), $"{dataset}: grid offsets in grid units");
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(runDir, "run.json")));
            Assert.That(json.RootElement.GetProperty("grid").GetProperty("offset_px").GetDouble(), Is.EqualTo(dataset == "plane-roll" ? 1.0 : 0.25));
            // The run's summary gives the periods in pixels too, and the distance between neighbours.
            using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(runDir, "summary.json")));
            double px = dataset == "plane-roll" ? 1.0 : 0.25;
            Assert.That(summary.RootElement.GetProperty("offset_px").GetDouble(), Is.EqualTo(px));
            Assert.That(summary.RootElement.GetProperty("neighbour_px").GetDouble(), Is.EqualTo(16 * px));
            foreach (var layer in new[] { "fc7", "class" })
            {
                var m = summary.RootElement.GetProperty("layers").GetProperty(layer);
                Assert.That(m.GetProperty("period_x_px").GetDouble(), Is.EqualTo(m.GetProperty("period_x").GetDouble() * px), $"{dataset} {layer}");
                Assert.That(m.GetProperty("period_y_px").GetDouble(), Is.EqualTo(m.GetProperty("period_y").GetDouble() * px), $"{dataset} {layer}");
            }
        }
        var report = TestCli.Run("report", outDir, "--data-dir", TestPaths.DataDir);
        Assert.That(report.Code, Is.EqualTo(0), report.Stderr);
        string html = File.ReadAllText(Path.Combine(outDir, "index.html"));
        Assert.That(html, Does.Contain("\"kind\":\"roll\",\"canvasSize\":224,\"noImage\":true"));
        Assert.That(html, Does.Contain("\"kind\":\"subpixel\",\"canvasSize\":224,\"noImage\":true"));
    }

    [Test]
    public void OlderKindsSerialiseAsBeforeSoTheirRunFingerprintsStillMatch()
    {
        var plane = DatasetConfig.Parse("kind: crop\nsource: p.png\nresize: 356\ncanvas: {size: 224}\n", "p.yaml");
        string json = JsonSerializer.Serialize(plane);
        foreach (var field in new[] { "MaxShift", "Step", "Range", "Method" })
            Assert.That(json, Does.Not.Contain($"\"{field}\":"), json);
        var sub = DatasetConfig.Parse("kind: subpixel\nsource: p.png\nstep: 0.5\nrange: 2\nmethod: fourier\ncanvas: {size: 224}\n", "s.yaml");
        Assert.That(JsonSerializer.Serialize(sub), Does.Contain("\"Step\":0.5").And.Contain("\"Method\":\"fourier\""));
    }
}
