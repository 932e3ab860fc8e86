using ScottPlot;
using SkiaSharp;

namespace ShiftBench.Report;

/// <summary>One heatmap of a figure; Grid null draws a "not run" panel.</summary>
public sealed record FigurePanel(string Title, double[,]? Grid, int Stride);

/// <summary>
/// Publication figures: panels laid out in rows x columns, each a heatmap in the study site's colour
/// scale with axes in pixels of shift (0, 0 top left, y down), one shared colour bar at the right and a
/// title on top. Written as PNG (2x for print) or SVG (vector axes and text, cells as an embedded image).
/// </summary>
public static class Figures
{
    const float PanelWidth = 300, PanelHeight = 290, ColorBarWidth = 110, TitleHeight = 34, FontSize = 13;
    const float PngScale = 2;

    /// <summary>Lowest finite value over the panels, floored to 0.01, as the default colour-scale minimum.</summary>
    public static double DefaultMinimum(IEnumerable<FigurePanel> panels, double vmax)
    {
        double min = double.PositiveInfinity;
        foreach (var p in panels)
            if (p.Grid is { } g)
                foreach (double v in g)
                    if (double.IsFinite(v) && v < min) min = v;
        if (double.IsPositiveInfinity(min)) return vmax - 1;
        min = Math.Floor(min * 100) / 100;
        return min < vmax ? min : vmax - 0.01;
    }

    /// <summary>
    /// Saves panels [rows, cols] (rowLabels/colLabels may be null) as PNG or SVG, chosen by the file extension.
    /// </summary>
    public static void Save(string path, string title, FigurePanel?[,] panels, double vmin, double vmax, string valueLabel,
        IReadOnlyList<string>? rowLabels = null)
    {
        int rows = panels.GetLength(0), cols = panels.GetLength(1);
        float width = cols * PanelWidth + ColorBarWidth, height = rows * PanelHeight + TitleHeight;
        string ext = Path.GetExtension(path).ToLowerInvariant();
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir) Directory.CreateDirectory(dir);

        void Draw(SKCanvas canvas)
        {
            canvas.Clear(SKColors.White);
            using (var font = new SKFont(SKTypeface.FromFamilyName("DejaVu Sans", SKFontStyle.Bold) ?? SKTypeface.Default, FontSize * 1.25f))
            using (var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true })
                canvas.DrawText(title, width / 2, TitleHeight * 0.72f, SKTextAlign.Center, font, paint);
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++)
                {
                    var rect = new PixelRect(c * PanelWidth, (c + 1) * PanelWidth, TitleHeight + (r + 1) * PanelHeight, TitleHeight + r * PanelHeight);
                    var plot = PanelPlot(panels[r, c], vmin, vmax,
                        xLabel: r == rows - 1 ? "x shift (px)" : null,
                        yLabel: c == 0 ? (rowLabels is null ? "y shift (px)" : $"{rowLabels[r]} · y shift (px)") : null);
                    plot.Render(canvas, rect);
                }
            ColorBarPlot(vmin, vmax, valueLabel, rows)
                .Render(canvas, new PixelRect(cols * PanelWidth, width, height, TitleHeight));
        }

        switch (ext)
        {
            case ".png":
            {
                var info = new SKImageInfo((int)Math.Ceiling(width * PngScale), (int)Math.Ceiling(height * PngScale));
                using var surface = SKSurface.Create(info);
                surface.Canvas.Scale(PngScale);
                Draw(surface.Canvas);
                using var image = surface.Snapshot();
                using var data = image.Encode(SKEncodedImageFormat.Png, 100);
                using var file = File.Create(path);
                data.SaveTo(file);
                break;
            }
            case ".svg":
            {
                using var file = File.Create(path);
                using (var canvas = SKSvgCanvas.Create(new SKRect(0, 0, width, height), file))
                    Draw(canvas);
                break;
            }
            default:
                throw new ShiftBenchException($"--out '{path}': the figure file must end in .png or .svg");
        }
    }

    static Plot PanelPlot(FigurePanel? panel, double vmin, double vmax, string? xLabel, string? yLabel)
    {
        var plot = new Plot();
        plot.Layout.Fixed(new PixelPadding(left: 62, right: 12, bottom: 46, top: 30));
        plot.Font.Set(Fonts.Sans);
        if (panel?.Grid is { } grid)
            Heatmap.AddPanel(plot, grid, panel.Stride, vmin, vmax, panel.Title, colorBar: false, xLabel, yLabel, FontSize);
        else
        {
            plot.Title(panel?.Title ?? "", FontSize * 1.1f);
            var text = plot.Add.Text("not run", 0.5, 0.5);
            text.LabelFontSize = FontSize * 1.2f;
            text.LabelAlignment = Alignment.MiddleCenter;
            plot.Axes.SetLimits(0, 1, 0, 1);
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual();
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual();
            plot.HideGrid();
            if (xLabel is not null) plot.XLabel(xLabel, FontSize);
            if (yLabel is not null) plot.YLabel(yLabel, FontSize);
        }
        return plot;
    }

    /// <summary>A vertical colour bar: a one-column heatmap of values from vmin (bottom) to vmax (top) with value ticks.</summary>
    static Plot ColorBarPlot(double vmin, double vmax, string valueLabel, int rows)
    {
        const int steps = 256;
        var ramp = new double[steps, 1];
        for (int i = 0; i < steps; i++)
            ramp[i, 0] = vmax - (vmax - vmin) * i / (steps - 1);   // row 0 (top) = vmax
        var plot = new Plot();
        float barHeight = Math.Min(rows * PanelHeight - 76, 260);
        float top = 30 + Math.Max(0, (rows * PanelHeight - 76 - barHeight) / 2);
        plot.Font.Set(Fonts.Sans);
        plot.Layout.Fixed(new PixelPadding(left: 12, right: 68, bottom: rows * PanelHeight - top - barHeight, top: top));
        var heatmap = plot.Add.Heatmap(ramp);
        heatmap.Colormap = new ColorScale.ScottPlotColormap();
        heatmap.ManualRange = new ScottPlot.Range(vmin, vmax);
        heatmap.Extent = new CoordinateRect(0, 1, vmin, vmax);
        plot.Axes.SetLimits(0, 1, vmin, vmax);
        plot.Axes.Margins(0, 0);
        plot.HideGrid();
        plot.Axes.Left.IsVisible = false;
        plot.Axes.Bottom.IsVisible = false;
        plot.Axes.Top.IsVisible = false;
        plot.Axes.Right.IsVisible = true;
        plot.Axes.Right.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic();
        plot.Axes.Right.TickLabelStyle.FontSize = FontSize * 0.9f;
        plot.Axes.Right.Label.Text = valueLabel;
        plot.Axes.Right.Label.FontSize = FontSize;
        heatmap.Axes.YAxis = plot.Axes.Right;
        plot.Axes.SetLimitsY(vmin, vmax, plot.Axes.Right);
        return plot;
    }
}
