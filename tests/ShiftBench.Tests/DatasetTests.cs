using ShiftBench.Datasets;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace ShiftBench.Tests;

[Category(TestTier.Fast)]
public class DatasetTests
{
    static void SaveRgba(string path, int width, int height, Func<int, int, Rgba32> pixel)
    {
        using var image = new Image<Rgba32>(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                image[x, y] = pixel(x, y);
        image.SaveAsPng(path);
    }

    static byte[] Pixel(Tensor chw, int y, int x) =>
        [(byte)chw[0, y, x].item<float>(), (byte)chw[1, y, x].item<float>(), (byte)chw[2, y, x].item<float>()];

    [Test]
    public void PatchIsCompositedWithTruncationAtEveryPosition()
    {
        using var dir = TestPaths.NewTempDir();
        // 2x2 patch: opaque red, half-transparent (128) green, fully transparent blue, alpha 1.
        var colours = new[] { new Rgba32(255, 0, 0, 255), new Rgba32(0, 200, 0, 128), new Rgba32(0, 0, 255, 0), new Rgba32(10, 20, 30, 1) };
        SaveRgba(Path.Combine(dir, "p.png"), 2, 2, (x, y) => colours[y * 2 + x]);
        var config = DatasetConfig.Parse("name: t\nkind: patch\ncanvas: {size: 5, color: [100, 50, 0]}\npatch: {source: p.png, size: 2}\n", "t.yaml");
        using var dataset = ShiftDataset.Open(config, dir);

        Assert.That(dataset.Offsets, Is.EqualTo(new[] { 0, 1, 2, 3 }));
        Assert.That(dataset.Count, Is.EqualTo(16));
        Assert.That(dataset.PositionAt(6), Is.EqualTo((1, 2)));

        using var image = dataset.Render8Bit(1, 2);
        Assert.That(Pixel(image, 0, 0), Is.EqualTo(new byte[] { 100, 50, 0 }), "canvas outside the patch");
        Assert.That(Pixel(image, 1, 2), Is.EqualTo(new byte[] { 255, 0, 0 }), "opaque pixel");
        // a = 128/255: green = a*200 + (1-a)*50 = 125.29 -> 125; red = (1-a)*100 = 49.8 -> 49 (truncated, not rounded)
        Assert.That(Pixel(image, 1, 3), Is.EqualTo(new byte[] { 49, 125, 0 }), "half-transparent pixel");
        Assert.That(Pixel(image, 2, 2), Is.EqualTo(new byte[] { 100, 50, 0 }), "transparent pixel");
        // a = 1/255: 10/255 + 100*254/255 = 99.65 -> 99; 20/255 + 50*254/255 = 49.88 -> 49; 30/255 -> 0
        Assert.That(Pixel(image, 2, 3), Is.EqualTo(new byte[] { 99, 49, 0 }), "nearly transparent pixel");
    }

    [Test]
    public void CropTakesWindowsOfTheResizedSourceAndStrideSubsamples()
    {
        using var dir = TestPaths.NewTempDir();
        SaveRgba(Path.Combine(dir, "s.png"), 6, 6, (x, y) => new Rgba32((byte)(10 * y), (byte)(10 * x), 7, 255));
        var config = DatasetConfig.Parse("kind: crop\nsource: s.png\nresize: 6\ncanvas: {size: 3}\n", "c.yaml");
        using var dataset = ShiftDataset.Open(config, dir, stride: 2);

        Assert.That(dataset.Offsets, Is.EqualTo(new[] { 0, 2 }));
        using var image = dataset.Render8Bit(2, 3);
        Assert.That(image.shape, Is.EqualTo(new long[] { 3, 3, 3 }));
        Assert.That(Pixel(image, 0, 0), Is.EqualTo(new byte[] { 20, 30, 7 }));
        Assert.That(Pixel(image, 2, 2), Is.EqualTo(new byte[] { 40, 50, 7 }));
    }

    [Test]
    public void BilinearResizeHasHalfPixelCentresAndRounding()
    {
        // 1x2 -> 1x4, half-pixel centres: source x = (i + 0.5) / 2 - 0.5 = -0.25 (clamped), 0.25, 0.75, 1.25 (clamped)
        using var src = tensor(new float[] { 0, 10 }, [1, 1, 2]);
        using var resized = SourceImage.Resize8Bit(src, 1, 4, DatasetConfig.BilinearResizeMethod);
        Assert.That(resized.data<float>().ToArray(), Is.EqualTo(new float[] { 0, 2 /* 2.5 rounds half to even */, 8, 10 }));
    }

    [Test]
    public void OpenCvResizeUsesFixedPointWeights()
    {
        // The same 1x2 -> 1x4 in OpenCV's arithmetic: weights 0.25/0.75 scaled by 2^11, the vertical pass's
        // (x >> 4) * 2048 >> 16 and the final (+2) >> 2 give 10 * 0.25 = 2.5 -> 3 (half up, not to even).
        using var src = tensor(new float[] { 0, 10 }, [1, 1, 2]);
        using var resized = SourceImage.Resize8Bit(src, 1, 4, DatasetConfig.OpenCvResizeMethod);
        Assert.That(resized.data<float>().ToArray(), Is.EqualTo(new float[] { 0, 3, 8, 10 }));
    }

    [TestCase("resize_method: cubic\n", "resize_method 'cubic' is unknown; use opencv or bilinear")]
    public void UnknownResizeMethodNamesTheFieldAndTheChoices(string line, string expected)
    {
        var error = Assert.Throws<ShiftBenchException>(() => DatasetConfig.Parse("kind: crop\nsource: s.png\nresize: 300\n" + line, "my.yaml"))!;
        Assert.That(error.Message, Does.StartWith("my.yaml: ").And.Contain(expected).And.Not.Contain("\n"));
    }

    [Test]
    public void ResizeMethodIsReadAndDefaultsToOpenCv()
    {
        Assert.That(DatasetConfig.Parse("kind: crop\nsource: s.png\nresize: 300\n", "a.yaml").ResizeMethod, Is.EqualTo("opencv"));
        Assert.That(DatasetConfig.Parse("kind: crop\nsource: s.png\nresize: 300\nresize_method: bilinear\n", "b.yaml").ResizeMethod, Is.EqualTo("bilinear"));
        var patches = DatasetConfig.Parse("kind: patches\nresize_method: bilinear\npatches: {folder: f, size: 2}\ncanvas: {size: 4}\n", "p.yaml");
        using var dir = TestPaths.NewTempDir();
        Directory.CreateDirectory(Path.Combine(dir, "f"));
        SaveRgba(Path.Combine(dir, "f", "a.png"), 3, 3, (x, y) => new Rgba32(1, 2, 3, 255));
        Assert.That(patches.ExpandPatches(dir).Single().ResizeMethod, Is.EqualTo("bilinear"), "each patch keeps the dataset's method");
    }

    [Test]
    public void BatchIsNormalisedWithImageNetStatistics()
    {
        using var dir = TestPaths.NewTempDir();
        SaveRgba(Path.Combine(dir, "p.png"), 1, 1, (_, _) => new Rgba32(0, 0, 0, 255));
        var config = DatasetConfig.Parse("kind: patch\ncanvas: {size: 2, color: [255, 255, 255]}\npatch: {source: p.png, size: 1}\n", "n.yaml");
        using var dataset = ShiftDataset.Open(config, dir);
        using var batch = dataset.Batch(1, 2); // positions (0,1) and (1,0)
        Assert.That(batch.shape, Is.EqualTo(new long[] { 2, 3, 2, 2 }));
        Assert.That(batch[0, 0, 0, 1].item<float>(), Is.EqualTo((0 - 0.485f) / 0.229f).Within(1e-5));
        Assert.That(batch[0, 2, 0, 0].item<float>(), Is.EqualTo((1 - 0.406f) / 0.225f).Within(1e-5));
        Assert.That(batch[1, 1, 1, 0].item<float>(), Is.EqualTo((0 - 0.456f) / 0.224f).Within(1e-5));
    }

    [TestCase("berry", 9)]
    [TestCase("plane", 11)]
    public void BatchesEqualTheNormalisedRenderingsBitForBit(string name, int stride)
    {
        using var dataset = ShiftDataset.Open(DatasetCatalog.Resolve(name), TestPaths.DataDir, stride);
        using var batch = dataset.Batch(7, 5);
        for (int i = 0; i < 5; i++)
        {
            var (y, x) = dataset.PositionAt(7 + i);
            using var image = dataset.Render8Bit(y, x);
            using var expected = image.unsqueeze(0).div(255f).sub_(tensor(new[] { 0.485f, 0.456f, 0.406f }).view(1, 3, 1, 1))
                .div_(tensor(new[] { 0.229f, 0.224f, 0.225f }).view(1, 3, 1, 1));
            Assert.That(batch[i].eq(expected[0]).all().item<bool>(), Is.True, $"position {y},{x}");
        }
    }

    [Test]
    public void PictureCanvasBatchesAreCompositedPerImage()
    {
        using var dir = TestPaths.NewTempDir();
        SaveRgba(Path.Combine(dir, "p.png"), 2, 2, (x, y) => new Rgba32(200, 10, 10, (byte)(100 + 50 * x)));
        SaveRgba(Path.Combine(dir, "bg.png"), 4, 4, (x, y) => new Rgba32((byte)(40 * x), (byte)(40 * y), 90, 255));
        var config = DatasetConfig.Parse("kind: patch\ncanvas: {size: 4, image: bg.png}\npatch: {source: p.png, size: 2}\n", "bg.yaml");
        using var dataset = ShiftDataset.Open(config, dir);
        using var image = dataset.Render8Bit(2, 1);
        // a = 150/255 at patch column 1 over background (80, 80, 90): 200a + 80(1-a) = 150.6, 10a + 80(1-a) = 38.8, 10a + 90(1-a) = 42.9
        Assert.That(Pixel(image, 2, 2), Is.EqualTo(new byte[] { 150, 38, 42 }));
        Assert.That(Pixel(image, 0, 0), Is.EqualTo(new byte[] { 0, 0, 90 }), "background picture");
        using var batch = dataset.Batch(dataset.Offsets.Count * 2 + 1, 1);
        Assert.That(batch[0, 0, 2, 2].item<float>(), Is.EqualTo((150 / 255f - 0.485f) / 0.229f).Within(1e-6));
    }

    [Test]
    public void StudyConfigsFollowTheStudysRules()
    {
        var berry = DatasetCatalog.Resolve("berry");
        Assert.That((berry.Kind, berry.TargetClass, berry.Canvas.Size, berry.Patch!.Size, berry.Patch.Source),
            Is.EqualTo(("patch", 949, 224, 100, "berry_transparent.png")));
        Assert.That(berry.Canvas.Color, Is.EqualTo(new[] { 255, 255, 255 }));
        Assert.That(berry.ResizeMethod, Is.EqualTo("opencv"));
        var plane = DatasetCatalog.Resolve("plane");
        Assert.That((plane.Kind, plane.TargetClass, plane.Canvas.Size, plane.Resize, plane.Source),
            Is.EqualTo(("crop", 895, 224, 356, "plane.png")));

        using var berrySet = ShiftDataset.Open(berry, TestPaths.DataDir);
        using var planeSet = ShiftDataset.Open(plane, TestPaths.DataDir);
        Assert.That((berrySet.Rows, berrySet.Cols, berrySet.Count), Is.EqualTo((125, 125, 15625)));
        Assert.That((planeSet.Rows, planeSet.Cols, planeSet.Count), Is.EqualTo((133, 133, 17689)));
    }

    [TestCase("berry", 7, 31)]
    [TestCase("berry", 124, 0)]
    [TestCase("plane", 100, 5)]
    [TestCase("plane", 132, 132)]
    public void BilinearRenderingsEqualPyTorchsReference(string name, int y, int x)
    {
        // `resize_method: bilinear` against tools/fixtures/make_dataset_fixtures.py (PIL + torch interpolate + NumPy
        // compositing). The default, opencv, is checked against OpenCV in OpenCvResizeTests.
        using var reference = Image.Load<Rgb24>(TestPaths.Fixture("datasets", $"{name}-{y}-{x}.png"));
        var expected = new byte[reference.Width * reference.Height * 3];
        reference.CopyPixelDataTo(expected);
        var config = DatasetCatalog.Resolve(name);
        config.ResizeMethod = DatasetConfig.BilinearResizeMethod;
        using var dataset = ShiftDataset.Open(config, TestPaths.DataDir);
        using var image = dataset.Render8Bit(y, x);
        var actual = image.to(ScalarType.Byte).permute(1, 2, 0).contiguous().data<byte>().ToArray();
        int differing = actual.Zip(expected).Count(p => p.First != p.Second);
        Assert.That(differing, Is.Zero, $"{differing} of {expected.Length} bytes differ from PyTorch's rendering");
    }

    [TestCase("kind: patch\ncanvas: {size: 50}\npatch: {source: p.png, size: 60}\n", "patch.size 60 is larger than canvas.size 50")]
    [TestCase("kind: crop\nsource: s.png\nresize: 100\ncanvas: {size: 224}\n", "resize 100 is smaller than canvas.size 224")]
    [TestCase("kind: spiral\n", "unknown kind 'spiral'")]
    [TestCase("kind: patch\ncanvas: {size: 50, color: [1, 2]}\npatch: {source: p.png, size: 6}\n", "canvas.color must be three values")]
    [TestCase("kind: patches\ncanvas: {size: 50}\npatches: {folder: f, size: 60}\n", "patches.size 60 is larger")]
    [TestCase("kind: patch\ncanvas: {size: 50}\n", "needs patch.source")]
    [TestCase("kind: crop\nsource: s.png\nresize: 300\nstride: 0\n", "stride must be 1 or more")]
    [TestCase("kind: crop\nsource: s.png\nresize: 300\ntarget_class: 1000\n", "target_class 1000")]
    [TestCase("kind: crop\nsourc: s.png\n", "invalid dataset config at line")]
    public void BadConfigsGiveOneClearLine(string yaml, string expected)
    {
        var error = Assert.Throws<ShiftBenchException>(() => DatasetConfig.Parse(yaml, "my.yaml"))!;
        Assert.That(error.Message, Does.StartWith("my.yaml: ").And.Contain(expected).And.Not.Contain("\n"));
    }

    [Test]
    public void MissingAndUnreadableImagesNameTheFile()
    {
        using var dir = TestPaths.NewTempDir();
        var config = DatasetConfig.Parse("kind: crop\nsource: gone.png\nresize: 4\ncanvas: {size: 2}\n", "c.yaml");
        var missing = Assert.Throws<ShiftBenchException>(() => ShiftDataset.Open(config, dir))!;
        Assert.That(missing.Message, Does.Contain("gone.png").And.Contain("--data-dir"));

        File.WriteAllText(Path.Combine(dir, "gone.png"), "not a png");
        var unreadable = Assert.Throws<ShiftBenchException>(() => ShiftDataset.Open(config, dir))!;
        Assert.That(unreadable.Message, Does.Contain("gone.png").And.Contain("cannot be read"));
    }

    [Test]
    public void UnknownDatasetListsTheKnownOnes()
    {
        var error = Assert.Throws<ShiftBenchException>(() => DatasetCatalog.Resolve("strawberries"))!;
        Assert.That(error.Message, Does.Contain("unknown dataset 'strawberries'").And.Contain("berry").And.Contain("plane"));
    }
}
