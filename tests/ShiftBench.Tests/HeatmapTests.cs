using ShiftBench.Report;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ShiftBench.Tests;

[Category(TestTier.Fast)]
public class HeatmapTests
{
    static bool NearLut(Rgb24 pixel, double value, double vmin, double vmax)
    {
        int index = ColorScale.Index(value, vmin, vmax);
        for (int k = Math.Max(0, index - 1); k <= Math.Min(255, index + 1); k++)
            if (ColorScale.Lut[k] == (pixel.R, pixel.G, pixel.B)) return true;
        return false;
    }

    [Test]
    public void SavePngDrawsEachCellAtItsShiftWithRowZeroOnTop()
    {
        const int rows = 9, cols = 13, stride = 3;
        const double vmin = 0.2, vmax = 1.0;
        var grid = new double[rows, cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                grid[r, c] = vmin + (vmax - vmin) * (r * cols + c) / (rows * cols - 1.0);
        string path = Path.Combine(SyntheticRuns.NewOutDir(), "cos-fc-tl.png");

        var plot = Heatmap.SavePngPlot(path, grid, stride, vmin, vmax, "resnet50 fc tl");

        using var image = Image.Load<Rgb24>(path);
        Assert.That((image.Width, image.Height), Is.EqualTo((Heatmap.DefaultWidth, Heatmap.DefaultHeight)));
        var checkedCells = new[] { (0, 0), (0, cols - 1), (rows - 1, 0), (rows - 1, cols - 1), (4, 6), (2, 9) };
        var pixelYs = new List<float>();
        foreach (var (r, c) in checkedCells)
        {
            var px = plot.GetPixel(new ScottPlot.Coordinates(c * stride, r * stride));
            var pixel = image[(int)px.X, (int)px.Y];
            Assert.That(NearLut(pixel, grid[r, c], vmin, vmax), Is.True, $"cell ({r}, {c}) at shift ({r * stride}, {c * stride}) drew {pixel}");
            pixelYs.Add(px.Y);
            // Every cell is one stride wide, centred on its shift: just inside its edges it still shows its own value.
            foreach (var (dx, dy) in new[] { (-0.4, -0.4), (0.4, 0.4), (-0.4, 0.4), (0.4, -0.4) })
            {
                var edge = plot.GetPixel(new ScottPlot.Coordinates((c + dx) * stride, (r + dy) * stride));
                var near = image[(int)edge.X, (int)edge.Y];
                Assert.That(NearLut(near, grid[r, c], vmin, vmax), Is.True, $"cell ({r}, {c}) near its edge ({dy:+0.0;-0.0}, {dx:+0.0;-0.0}) drew {near}");
            }
        }
        Assert.That(pixelYs[0], Is.LessThan(pixelYs[2]), "row 0 (y shift 0) must be above the last row");
    }

    /// <summary>A grid of one row or one column (a stride that leaves one offset on an axis): each cell one stride wide at its shift.</summary>
    [TestCase(1, 4)]
    [TestCase(4, 1)]
    public void SavePngDrawsASingleRowOrColumnOneStrideWide(int rows, int cols)
    {
        const int stride = 5;
        const double vmin = 0.4, vmax = 1.0;
        var grid = new double[rows, cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                grid[r, c] = vmin + (vmax - vmin) * (r + c) / 3.0;
        string path = Path.Combine(SyntheticRuns.NewOutDir(), "line.png");
        var plot = Heatmap.SavePngPlot(path, grid, stride, vmin, vmax, "line");
        using var image = Image.Load<Rgb24>(path);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                foreach (var (dx, dy) in new[] { (0.0, 0.0), (-0.4, -0.4), (0.4, 0.4), (-0.4, 0.4), (0.4, -0.4) })
                {
                    var px = plot.GetPixel(new ScottPlot.Coordinates((c + dx) * stride, (r + dy) * stride));
                    var pixel = image[(int)px.X, (int)px.Y];
                    Assert.That(NearLut(pixel, grid[r, c], vmin, vmax), Is.True, $"cell ({r}, {c}) at ({dy:+0.0;-0.0}, {dx:+0.0;-0.0}) drew {pixel}");
                }
    }

    /// <summary>
    /// A constant grid (a perfectly invariant layer, or one position) has no range: it is drawn in the top colour
    /// (ColorScale.Drawable widens the range below vmax), also when its minimum is a hair above vmax.
    /// </summary>
    [TestCase(1, 1, 1.0)]
    [TestCase(2, 3, 1.0000000000000009)]
    public void SavePngDrawsAConstantGridInTheTopColour(int rows, int cols, double vmin)
    {
        var grid = new double[rows, cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                grid[r, c] = 1.0;
        string path = Path.Combine(SyntheticRuns.NewOutDir(), "x.png");
        var plot = Heatmap.SavePngPlot(path, grid, 1, vmin, 1.0, "t");
        using var image = Image.Load<Rgb24>(path);
        var px = plot.GetPixel(new ScottPlot.Coordinates(0, 0));
        var pixel = image[(int)px.X, (int)px.Y];
        Assert.That((pixel.R, pixel.G, pixel.B), Is.EqualTo(ColorScale.Lut[0]));
        Assert.That(ColorScale.Drawable(vmin, 1.0), Is.EqualTo((1.0 - ColorScale.DegenerateSpan, 1.0)));
    }

    [Test]
    public void ColourScaleIsYellowAtTheMaximumAndDarkRedAtTheMinimum()
    {
        Assert.That(ColorScale.Map(1.0, 0.5, 1.0), Is.EqualTo(((byte)0xff, (byte)0xff, (byte)0xcc)));
        Assert.That(ColorScale.Map(0.5, 0.5, 1.0), Is.EqualTo(((byte)0x80, (byte)0x00, (byte)0x26)));
        Assert.That(ColorScale.Map(0.1, 0.5, 1.0), Is.EqualTo(ColorScale.Map(0.5, 0.5, 1.0)), "below the minimum clamps");
        // Darker (lower luminance) as the value falls.
        double Luma((byte R, byte G, byte B) c) => 0.3 * c.R + 0.59 * c.G + 0.11 * c.B;
        Assert.That(Luma(ColorScale.Map(0.9, 0.5, 1.0)), Is.GreaterThan(Luma(ColorScale.Map(0.7, 0.5, 1.0))));
    }
}
