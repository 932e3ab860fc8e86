using System.Text.Json;
using ShiftBench.Report;

namespace ShiftBench.Tests;

/// <summary>The report's stand-in resize against PyTorch (fixture from tools/fixtures/make_bilinear_fixture.py).</summary>
public class ReportBilinearTests
{
    [Test]
    public void ResizeMatchesPytorchBilinearWithoutAntialias()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "report", "bilinear.json")));
        var root = doc.RootElement;
        var src = new RgbaImage(Convert.FromBase64String(root.GetProperty("rgba").GetString()!), root.GetProperty("width").GetInt32(), root.GetProperty("height").GetInt32());
        int checkedOutputs = 0, ties = 0, values = 0;
        foreach (var o in root.GetProperty("outputs").EnumerateArray())
        {
            int w = o.GetProperty("width").GetInt32(), h = o.GetProperty("height").GetInt32();
            var expected = Convert.FromBase64String(o.GetProperty("rgba").GetString()!);
            var exact = Convert.FromBase64String(o.GetProperty("float32").GetString()!);
            var actual = DatasetView.ResizeBilinear(src, w, h);
            Assert.That(actual.Rgba, Has.Length.EqualTo(expected.Length));
            for (int i = 0; i < expected.Length; i++)
            {
                values++;
                if (actual.Rgba[i] == expected[i]) continue;
                // Only a float-level tie at .5 may round the other way (PyTorch's FMA order is not reproducible).
                float torchValue = BitConverter.ToSingle(exact, i * 4);
                Assert.That(Math.Abs(torchValue - Math.Floor(torchValue) - 0.5), Is.LessThan(1e-3),
                    $"{src.Width}x{src.Height} -> {w}x{h}, byte {i}: ours {actual.Rgba[i]}, PyTorch {expected[i]} ({torchValue})");
                Assert.That(Math.Abs(actual.Rgba[i] - expected[i]), Is.EqualTo(1));
                ties++;
            }
            checkedOutputs++;
        }
        Assert.That(checkedOutputs, Is.EqualTo(4));
        Assert.That(ties, Is.LessThan(values / 1000 + 1), "ties must stay rare");
    }
}
