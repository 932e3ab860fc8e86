using ShiftBench.Output;

namespace ShiftBench.Tests;

/// <summary>Our .npy files against files NumPy wrote (tools/fixtures/make_npy_fixtures.py).</summary>
[Category(TestTier.Fast)]
public class NpyTests
{
    [Test]
    public void ReadsWhatNumPyWrote()
    {
        var (floats, shape) = Npy.ReadFloat32(TestPaths.Fixture("npy", "float32_2x3.npy"));
        Assert.That(shape, Is.EqualTo(new long[] { 2, 3 }));
        Assert.That(floats, Is.EqualTo(new[] { 1.5f, -2f, 3.25f, 0f, 1e-7f, -1e30f }));
        var (longs, longShape) = Npy.ReadInt64(TestPaths.Fixture("npy", "int64_5.npy"));
        Assert.That(longShape, Is.EqualTo(new long[] { 5 }));
        Assert.That(longs, Is.EqualTo(new[] { 0L, 949, -1, 1L << 40, 895 }));
    }

    [TestCase("float32_2x3.npy")]
    [TestCase("float32_4x1000.npy")]
    [TestCase("int64_5.npy")]
    public void WritesTheSameBytesAsNumPy(string name)
    {
        using var dir = TestPaths.NewTempDir();
        string source = TestPaths.Fixture("npy", name), copy = Path.Combine(dir, name);
        if (name.StartsWith("int64"))
        {
            var (data, shape) = Npy.ReadInt64(source);
            Npy.Write(copy, data, shape);
        }
        else
        {
            var (data, shape) = Npy.ReadFloat32(source);
            Npy.Write(copy, data, shape);
        }
        Assert.That(File.ReadAllBytes(copy), Is.EqualTo(File.ReadAllBytes(source)));
    }

    [Test]
    public void RowFileWritesRowsAnywhereAndMatchesNumPy()
    {
        using var dir = TestPaths.NewTempDir();
        var (data, _) = Npy.ReadFloat32(TestPaths.Fixture("npy", "float32_4x1000.npy"));
        string path = Path.Combine(dir, "rows.npy");
        using (var file = NpyRowFile.OpenOrCreate(path, 4, 1000, keepExisting: false))
        {
            file.WriteRows(2, data.AsSpan(2000, 2000)); // later rows first, as a resumed run may
            file.WriteRows(0, data.AsSpan(0, 2000));
        }
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(File.ReadAllBytes(TestPaths.Fixture("npy", "float32_4x1000.npy"))));
        using var reopened = NpyRowFile.OpenOrCreate(path, 4, 1000, keepExisting: true);
        var row = new float[1000];
        reopened.ReadRows(3, row);
        Assert.That(row, Is.EqualTo(data[3000..]), "keepExisting keeps the rows");
    }
}
