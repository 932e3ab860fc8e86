using ScottPlot;

namespace ShiftBench.Report;

/// <summary>
/// A single grid as a heatmap image: cells in the study site's colour scale (<see cref="ColorScale"/>),
/// axes in pixels of shift with position (0, 0) at the top left and y growing downward, optional colour bar.
/// The run writes every cos-*.png and class.png with <see cref="SavePng"/>.
/// </summary>
public static class Heatmap
{
    public const int DefaultWidth = 560;

    /// <summary>First installed of the usual sans-serif families (Debian: fonts-dejavu-core, fonts-liberation).</summary>
    internal static readonly string SansFont =
        new[] { "DejaVu Sans", "Liberation Sans", "Arial", "Helvetica" }
            .FirstOrDefault(f => SkiaSharp.SKFontManager.Default.MatchFamily(f) is not null) ?? Fonts.Sans;
    public const int DefaultHeight = 480;

    /// <summary>Writes grid [rows, cols] (row = y index) as a PNG with a colour bar from vmin to vmax.</summary>
    public static void SavePng(string path, double[,] grid, int stride, double vmin, double vmax, string title) =>
        SavePngPlot(path, grid, stride, vmin, vmax, title);

    /// <summary>As <see cref="SavePng"/>, returning the rendered plot (tests map shifts to image pixels with it).</summary>
    internal static Plot SavePngPlot(string path, double[,] grid, int stride, double vmin, double vmax, string title)
    {
        var plot = new Plot();
        AddPanel(plot, grid, stride, vmin, vmax, title, colorBar: true, xLabel: "x shift (px)", yLabel: "y shift (px)", fontSize: 14);
        plot.SavePng(path, DefaultWidth, DefaultHeight);
        return plot;
    }

    /// <summary>Draws one heatmap panel into plot; returns the heatmap so a caller can attach a shared colour bar.</summary>
    internal static ScottPlot.Plottables.Heatmap AddPanel(Plot plot, double[,] grid, int stride, double vmin, double vmax,
        string title, bool colorBar, string? xLabel, string? yLabel, float fontSize)
    {
        int rows = grid.GetLength(0), cols = grid.GetLength(1);
        (vmin, vmax) = ColorScale.Drawable(vmin, vmax); // a constant grid is a result, not an error
        var heatmap = plot.Add.Heatmap(TwoWide(grid));
        heatmap.Colormap = new ColorScale.ScottPlotColormap();
        heatmap.ManualRange = new ScottPlot.Range(vmin, vmax);
        heatmap.Smooth = false;
        // Cell centres at the pixel shifts; ScottPlot's +y is up, so flip the axis to put row 0 on top.
        // With the default middle-centre cell alignment, ScottPlot places the corner cells' centres on the
        // extent's corners, so the extent spans centre to centre. A single row or column (a one-position grid) would
        // have no width: it is drawn as two half-stride cells (TwoWide), centred a quarter stride either side of its shift.
        double half = stride / 2.0;
        (double From, double To) Span(int n) => n == 1 ? (-stride / 4.0, stride / 4.0) : (0, (n - 1) * stride);
        heatmap.Extent = new CoordinateRect(Span(cols).From, Span(cols).To, Span(rows).From, Span(rows).To);
        heatmap.FlipVertically = false;
        plot.Axes.Margins(0, 0);
        plot.Axes.SetLimits(-half, (cols - 1) * stride + half, (rows - 1) * stride + half, -half);
        plot.HideGrid();

        plot.Font.Set(SansFont);
        plot.Title(title, fontSize * 1.1f);
        if (xLabel is not null) plot.XLabel(xLabel, fontSize);
        if (yLabel is not null) plot.YLabel(yLabel, fontSize);
        plot.Axes.Bottom.TickLabelStyle.FontSize = fontSize * 0.9f;
        plot.Axes.Left.TickLabelStyle.FontSize = fontSize * 0.9f;
        if (colorBar)
        {
            var bar = plot.Add.ColorBar(heatmap);
            bar.Axis.TickLabelStyle.FontSize = fontSize * 0.9f;
        }
        return heatmap;
    }

    /// <summary>The grid with a single row or column repeated once (see the extent in <see cref="AddPanel"/>).</summary>
    static double[,] TwoWide(double[,] grid)
    {
        int rows = grid.GetLength(0), cols = grid.GetLength(1);
        if (rows > 1 && cols > 1) return grid;
        var wide = new double[Math.Max(rows, 2), Math.Max(cols, 2)];
        for (int r = 0; r < wide.GetLength(0); r++)
            for (int c = 0; c < wide.GetLength(1); c++)
                wide[r, c] = grid[Math.Min(r, rows - 1), Math.Min(c, cols - 1)];
        return wide;
    }
}
