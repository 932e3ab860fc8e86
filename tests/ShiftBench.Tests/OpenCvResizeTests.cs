using System.Security.Cryptography;
using System.Text.Json;
using ShiftBench.Datasets;
using static TorchSharp.torch;

namespace ShiftBench.Tests;

/// <summary>
/// OpenCvResize against Debian's OpenCV 4.6 (tools/fixtures/make_resize_fixtures.py): synthetic images of many
/// geometries, and the study's two datasets rendered from OpenCV-resized sources.
/// </summary>
[Category(TestTier.Fast)]
public class OpenCvResizeTests
{
    public sealed record ResizeCase(int SrcWidth, int SrcHeight, int Channels, int DstWidth, int DstHeight, string Pattern, int Seed,
        string Sha256, long[] RowSums, string? Bytes)
    {
        public override string ToString() => $"{SrcWidth}x{SrcHeight}x{Channels} -> {DstWidth}x{DstHeight} {Pattern}";
    }

    static readonly JsonSerializerOptions Snake = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    static IReadOnlyList<ResizeCase> LoadCases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("resize", "resize-cases.json")));
        return doc.RootElement.GetProperty("cases").Deserialize<List<ResizeCase>>(Snake)!;
    }

    public static IEnumerable<TestCaseData> Cases() => LoadCases().Select(c => new TestCaseData(c).SetArgDisplayNames(c.ToString()));

    /// <summary>The fixture's input images: make_resize_fixtures.py's pattern_bytes, in the same uint32 arithmetic.</summary>
    static byte[] Pattern(int n, string pattern, int seed)
    {
        var bytes = new byte[n];
        if (pattern == "max") { Array.Fill(bytes, (byte)255); return bytes; }
        Assert.That(pattern, Is.EqualTo("noise"));
        unchecked
        {
            for (int i = 0; i < n; i++)
            {
                uint x = (uint)i * 2654435761u + (uint)seed * 97531u + 12345u;
                x ^= x >> 15;
                x *= 2246822519u;
                x ^= x >> 13;
                bytes[i] = (byte)x;
            }
        }
        return bytes;
    }

    /// <summary>Byte-for-byte comparison; on a mismatch the message says which rows (and, with whole bytes, which values) differ.</summary>
    static void AssertSameBytes(byte[] actual, int rowLength, string sha256, long[] rowSums, string? wholeBytes, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(rowSums.Length * rowLength), $"{what}: size");
        var differingRows = Enumerable.Range(0, rowSums.Length)
            .Where(r => actual.AsSpan(r * rowLength, rowLength).ToArray().Sum(b => (long)b) != rowSums[r]).ToList();
        if (wholeBytes is not null)
        {
            var expected = Convert.FromBase64String(wholeBytes);
            var differing = Enumerable.Range(0, expected.Length).Where(i => actual[i] != expected[i]).ToList();
            Assert.That(differing, Is.Empty, $"{what}: {differing.Count} of {expected.Length} bytes differ, first at " +
                string.Join(", ", differing.Take(5).Select(i => $"row {i / rowLength} byte {i % rowLength}: {actual[i]} vs OpenCV {expected[i]}")));
        }
        Assert.That(differingRows, Is.Empty, $"{what}: row sums differ from OpenCV's in rows {string.Join(", ", differingRows.Take(20))}");
        Assert.That(Convert.ToHexStringLower(SHA256.HashData(actual)), Is.EqualTo(sha256), $"{what}: SHA-256 of the bytes");
    }

    [TestCaseSource(nameof(Cases))]
    public void ResizeEqualsOpenCvByteForByte(ResizeCase c)
    {
        var src = Pattern(c.SrcWidth * c.SrcHeight * c.Channels, c.Pattern, c.Seed);
        var dst = OpenCvResize.Resize(src, c.SrcWidth, c.SrcHeight, c.Channels, c.DstWidth, c.DstHeight);
        AssertSameBytes(dst, c.DstWidth * c.Channels, c.Sha256, c.RowSums, c.Bytes, c.ToString());
    }

    [Test]
    public void FixturesCoverTheRequiredGeometries()
    {
        var cases = LoadCases();
        bool Has(int sw, int sh, int dw, int dh) => cases.Any(c => (c.SrcWidth, c.SrcHeight, c.DstWidth, c.DstHeight) == (sw, sh, dw, dh));
        Assert.That(Has(117, 117, 100, 100) && Has(1365, 1365, 356, 356), "the study's two resizes");
        Assert.That(Has(37, 37, 23, 23) && Has(50, 50, 100, 100) && Has(64, 48, 32, 24) && Has(96, 96, 32, 32), "odd ratio, upscale, 2x, 3x");
        Assert.That(Has(1, 1, 5, 5) && Has(5, 5, 1, 1) && Has(40, 30, 40, 17) && Has(13, 11, 13, 11), "1x1 cases, an unchanged side, unchanged size");
        Assert.That(cases.Select(c => c.Channels).Distinct().Order(), Is.SupersetOf(new[] { 1, 3, 4 }));
        Assert.That(cases.Count(c => c.Bytes is not null), Is.GreaterThan(10), "small outputs are stored whole");
    }

    [Test]
    public void DiffersFromTheFloatFormulaWhereOpenCvDoes()
    {
        // The reason this class exists: on the berry's geometry the float bilinear formula, rounded, is off by one in
        // a few percent of the values (the fixture above proves OpenCvResize right; this proves the two methods differ).
        var c = LoadCases().First(k => (k.SrcWidth, k.DstWidth, k.Channels, k.Pattern) == (117, 100, 4, "noise"));
        var src = Pattern(117 * 117 * 4, c.Pattern, c.Seed);
        using var chw = tensor(src, [117, 117, 4], ScalarType.Byte).permute(2, 0, 1).to(ScalarType.Float32);
        using var opencv = SourceImage.Resize8Bit(chw, 100, 100, DatasetConfig.OpenCvResizeMethod);
        using var bilinear = SourceImage.Resize8Bit(chw, 100, 100, DatasetConfig.BilinearResizeMethod);
        using var diff = (opencv - bilinear).abs();
        Assert.That(diff.max().item<float>(), Is.EqualTo(1f), "within one grey level");
        double share = diff.gt(0).sum().item<long>() / (double)diff.numel();
        Assert.That(share, Is.InRange(0.001, 0.2), "but not identical");
    }

    [Test]
    public void SourceImageResizeIsOpenCvForTheOpenCvMethod()
    {
        // SourceImage.Resize8Bit (used by the datasets and the report) reaches OpenCvResize with channels last.
        var c = LoadCases().First(k => (k.SrcWidth, k.SrcHeight, k.DstWidth, k.DstHeight, k.Channels) == (37, 37, 23, 23, 3));
        var src = Pattern(37 * 37 * 3, c.Pattern, c.Seed);
        using var chw = tensor(src, [37, 37, 3], ScalarType.Byte).permute(2, 0, 1).to(ScalarType.Float32);
        using var resized = SourceImage.Resize8Bit(chw, 23, 23, DatasetConfig.OpenCvResizeMethod);
        var hwc = resized.permute(1, 2, 0).to(ScalarType.Byte).contiguous().data<byte>().ToArray();
        AssertSameBytes(hwc, 23 * 3, c.Sha256, c.RowSums, c.Bytes, c.ToString());
    }

    [TestCase(0, 5, 3, 2, 2)]
    [TestCase(5, 5, 5, 2, 2)]
    [TestCase(5, 5, 3, 0, 2)]
    public void BadArgumentsAreRefused(int srcWidth, int srcHeight, int channels, int dstWidth, int dstHeight)
    {
        var src = new byte[Math.Max(0, srcWidth * srcHeight * channels)];
        Assert.Catch<ArgumentException>(() => OpenCvResize.Resize(src, srcWidth, srcHeight, channels, dstWidth, dstHeight));
    }

    // The study's datasets (configs/berry.yaml, configs/plane.yaml, resize_method opencv by default) against
    // cv2.resize + NumPy compositing/cropping (make_dataset_fixtures.py) at the 5 anchors and other positions.
    [TestCase("berry")]
    [TestCase("plane")]
    public void StudyDatasetsEqualOpenCvRenderings(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("resize", "study-renderings.json")));
        var config = DatasetCatalog.Resolve(name);
        Assert.That(config.ResizeMethod, Is.EqualTo("opencv"), "the study's datasets use OpenCV's resize by default");

        var source = doc.RootElement.GetProperty("sources").GetProperty(name);
        int size = source.GetProperty("size").GetInt32();
        using (var raw = SourceImage.LoadRgba(SourceImage.Locate(TestPaths.DataDir, source.GetProperty("file").GetString()!)))
        using (var resized = SourceImage.Resize8Bit(raw, size, size, config.ResizeMethod))
        {
            var hwc = resized.permute(1, 2, 0).to(ScalarType.Byte).contiguous().data<byte>().ToArray();
            AssertSameBytes(hwc, size * 4, source.GetProperty("sha256").GetString()!, RowSums(source), null, $"{name} resized source");
        }

        using var dataset = ShiftDataset.Open(config, TestPaths.DataDir);
        var positions = doc.RootElement.GetProperty("positions").EnumerateArray().Where(p => p.GetProperty("dataset").GetString() == name).ToList();
        var anchors = new[] { (0, 0), (0, dataset.Config.Room), (dataset.Offsets[dataset.Rows / 2], dataset.Offsets[dataset.Cols / 2]), (dataset.Config.Room, 0), (dataset.Config.Room, dataset.Config.Room) };
        Assert.That(anchors.Except(positions.Select(p => (p.GetProperty("y").GetInt32(), p.GetProperty("x").GetInt32()))), Is.Empty, "every anchor is checked");
        Assert.That(positions, Has.Count.GreaterThan(anchors.Length));
        foreach (var p in positions)
        {
            int y = p.GetProperty("y").GetInt32(), x = p.GetProperty("x").GetInt32();
            using var image = dataset.Render8Bit(y, x);
            var hwc = image.permute(1, 2, 0).to(ScalarType.Byte).contiguous().data<byte>().ToArray();
            AssertSameBytes(hwc, 224 * 3, p.GetProperty("sha256").GetString()!, RowSums(p), null, $"{name} at {y},{x}");
        }
    }

    [TestCase("opencv", "opencv")]
    [TestCase("bilinear", "bilinear")]
    [TestCase(null, "bilinear")] // run.json written before resize_method existed: those runs used the float method
    public void ReportResizesWithTheRunsMethod(string? recorded, string expected)
    {
        var config = new Dictionary<string, object> { ["kind"] = "patch", ["canvas"] = new { size = 224 }, ["patch"] = new { source = "berry_transparent.png", size = 100 } };
        if (recorded is not null) config["resize_method"] = recorded;
        using var run = JsonDocument.Parse(JsonSerializer.Serialize(new { name = "berry", config }));
        var methods = new List<string>();
        var view = DatasetView.FromRunJson(Section(run), [TestPaths.DataDir], (path, w, h, method) =>
        {
            methods.Add(method);
            return DatasetView.DatasetResize(path, w, h, method);
        });
        Assert.That(methods, Is.EqualTo(new[] { expected }));

        // The page's patch is the datasets' own resize: for opencv, OpenCV's bytes.
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("resize", "study-renderings.json")));
        var source = doc.RootElement.GetProperty("sources").GetProperty("berry");
        string sha = Convert.ToHexStringLower(SHA256.HashData(view.Source.Rgba));
        Assert.That(sha == source.GetProperty("sha256").GetString(), Is.EqualTo(expected == "opencv"), "the embedded patch is OpenCV's resize exactly when the run used it");
    }

    /// <summary>A run.json "dataset" section as the run record reads it.</summary>
    static ShiftBench.Output.RunDataset Section(JsonDocument run) => new()
    {
        Name = run.RootElement.GetProperty("name").GetString()!, Config = run.RootElement.GetProperty("config").Clone(),
    };

    [Test]
    public void ReportRefusesAnUnknownRecordedMethod()
    {
        using var run = JsonDocument.Parse("""{"name": "berry", "config": {"kind": "crop", "resize_method": "lanczos", "canvas": {"size": 224}, "source": "plane.png", "resize": 356}}""");
        var error = Assert.Throws<ShiftBenchException>(() => DatasetView.FromRunJson(Section(run), [TestPaths.DataDir], DatasetView.DatasetResize))!;
        Assert.That(error.Message, Does.Contain("dataset.config.resize_method is 'lanczos'"));
    }

    [Test]
    public void CliShowsTheMethodAndRefusesAnUnknownOne()
    {
        var (code, stdout, _) = TestCli.Run("dataset", "show", "berry");
        Assert.That(code, Is.Zero);
        Assert.That(stdout, Does.Contain("resize:       opencv"));

        using var dir = TestPaths.NewTempDir();
        string yaml = Path.Combine(dir, "bad.yaml");
        File.WriteAllText(yaml, "kind: crop\nsource: plane.png\nresize: 356\nresize_method: area\n");
        var (badCode, _, stderr) = TestCli.Run("dataset", "show", yaml);
        Assert.That(badCode, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain($"{yaml}: resize_method 'area' is unknown; use opencv or bilinear"));
    }

    static long[] RowSums(JsonElement e) => e.GetProperty("row_sums").EnumerateArray().Select(v => v.GetInt64()).ToArray();
}
