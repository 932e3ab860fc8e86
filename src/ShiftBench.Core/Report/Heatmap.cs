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
        var heatmap = plot.Add.Heatmap(grid);
        heatmap.Colormap = new ColorScale.ScottPlotColormap();
        heatmap.ManualRange = new ScottPlot.Range(vmin, vmax);
        heatmap.Smooth = false;
        // Cell centres at the pixel shifts; ScottPlot's +y is up, so flip the axis to put row 0 on top.
        // With the default middle-centre cell alignment, ScottPlot places the corner cells' centres on the
        // extent's corners, so the extent spans centre to centre (a single row or column gets one stride).
        double half = stride / 2.0;
        heatmap.Extent = new CoordinateRect(0, Math.Max(cols - 1, 1) * stride, 0, Math.Max(rows - 1, 1) * stride);
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
}
