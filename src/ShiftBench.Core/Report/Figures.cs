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
    const float PanelWidth = 300, PanelHeight = 296, ColorBarWidth = 110, TitleHeight = 34, FontSize = 13, PanelTop = 40, PanelBottom = 46;
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
            using (var font = new SKFont(SKTypeface.FromFamilyName(Heatmap.SansFont, SKFontStyle.Bold) ?? SKTypeface.Default, FontSize * 1.25f))
            using (var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true })
                canvas.DrawText(title, width / 2, TitleHeight * 0.72f, SKTextAlign.Center, font, paint);
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++)
                {
                    var rect = new PixelRect(c * PanelWidth, (c + 1) * PanelWidth, TitleHeight + (r + 1) * PanelHeight, TitleHeight + r * PanelHeight);
                    var plot = PanelPlot(panels[r, c], vmin, vmax,
                        xLabel: r == rows - 1 ? "x shift (px)" : null,
                        yLabel: c == 0 ? (rowLabels is null ? "y shift (px)" : $"{rowLabels[r]} · y shift (px)") : null);
                    RenderClipped(canvas, plot, rect);
                }
            float barHeight = Math.Min(rows * PanelHeight - PanelTop - PanelBottom, 300);
            DrawColorBar(canvas, cols * PanelWidth + 8, TitleHeight + PanelTop + (rows * PanelHeight - PanelTop - PanelBottom - barHeight) / 2,
                barHeight, vmin, vmax, valueLabel);
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

    /// <summary>
    /// A depth profile as a line chart (PNG at 2x or SVG, by extension): one line per variant over the stages in
    /// forward order, undefined values left out.
    /// </summary>
    public static void SaveProfile(string path, Analysis.DepthProfile profile)
    {
        const int width = 760, height = 470;
        var plot = new Plot();
        plot.Font.Set(Heatmap.SansFont);
        double[] positions = [.. profile.Stages.Select((_, i) => (double)i)];
        foreach (var variant in profile.Variants)
        {
            var points = profile.Stages.Select((s, i) => (X: (double)i, Y: profile.Value(s, variant))).Where(p => double.IsFinite(p.Y)).ToList();
            var line = plot.Add.Scatter(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray());
            line.LegendText = variant;
            line.LineWidth = 2;
            line.MarkerSize = 7;
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, [.. profile.Stages]);
        plot.Axes.Bottom.TickLabelStyle.Rotation = 35;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.UpperLeft;
        plot.Axes.Bottom.MinimumSize = 90;
        plot.Axes.SetLimitsX(-0.5, profile.Stages.Count - 0.5);
        plot.Title($"{profile.Model} · {profile.Metric} by depth · {profile.Dataset}");
        plot.XLabel("stage (input to output)");
        plot.YLabel(profile.Metric);
        plot.ShowLegend(Edge.Right);
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir) Directory.CreateDirectory(dir);
        switch (Path.GetExtension(path).ToLowerInvariant())
        {
            case ".png":
                plot.ScaleFactor = PngScale;
                plot.SavePng(path, (int)(width * PngScale), (int)(height * PngScale));
                break;
            case ".svg":
                plot.SaveSvg(path, width, height);
                break;
            default:
                throw new ShiftBenchException($"--out '{path}': the figure file must end in .png or .svg");
        }
    }

    /// <summary>ScottPlot clears the canvas before drawing a plot; the clip keeps that to the plot's own rectangle.</summary>
    static void RenderClipped(SKCanvas canvas, Plot plot, PixelRect rect)
    {
        canvas.Save();
        canvas.ClipRect(new SKRect(rect.Left, rect.Top, rect.Right, rect.Bottom));
        plot.Render(canvas, rect);
        canvas.Restore();
    }

    static Plot PanelPlot(FigurePanel? panel, double vmin, double vmax, string? xLabel, string? yLabel)
    {
        var plot = new Plot();
        plot.Layout.Fixed(new PixelPadding(left: 62, right: 12, bottom: PanelBottom, top: PanelTop));
        plot.Font.Set(Heatmap.SansFont);
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

    /// <summary>
    /// A vertical colour bar drawn directly (one 1x256 bitmap, tick lines and labels): vmax at the top, vmin
    /// at the bottom, ticks at round values in between.
    /// </summary>
    static void DrawColorBar(SKCanvas canvas, float left, float top, float height, double vmin, double vmax, string valueLabel)
    {
        const float barWidth = 18;
        using (var bitmap = new SKBitmap(1, 256))
        {
            for (int i = 0; i < 256; i++)
            {
                var (r, g, b) = ColorScale.Lut[i];
                bitmap.SetPixel(0, i, new SKColor(r, g, b));
            }
            using var image = SKImage.FromBitmap(bitmap);
            canvas.DrawImage(image, new SKRect(left, top, left + barWidth, top + height), new SKSamplingOptions(SKFilterMode.Nearest));
        }
        using var line = new SKPaint { Color = SKColors.Black, IsAntialias = true, StrokeWidth = 1, Style = SKPaintStyle.Stroke };
        canvas.DrawRect(new SKRect(left, top, left + barWidth, top + height), line);
        using var typeface = SKTypeface.FromFamilyName(Heatmap.SansFont) ?? SKTypeface.Default;
        using var font = new SKFont(typeface, FontSize * 0.9f);
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        double step = TickStep(vmax - vmin);
        int decimals = Math.Max(0, (int)Math.Ceiling(-Math.Log10(step) - 1e-9));
        for (double v = Math.Ceiling(vmin / step - 1e-9) * step; v <= vmax + step * 1e-6; v += step)
        {
            float y = top + (float)((vmax - v) / (vmax - vmin)) * height;
            canvas.DrawLine(left + barWidth, y, left + barWidth + 4, y, line);
            canvas.DrawText(v.ToString("F" + decimals, System.Globalization.CultureInfo.InvariantCulture), left + barWidth + 7, y + FontSize * 0.32f, SKTextAlign.Left, font, text);
        }
        using var labelFont = new SKFont(typeface, FontSize);
        canvas.Save();
        canvas.Translate(left + barWidth + 62, top + height / 2);
        canvas.RotateDegrees(90);
        canvas.DrawText(valueLabel, 0, 0, SKTextAlign.Center, labelFont, text);
        canvas.Restore();
    }

    /// <summary>A 1-2-5 step giving 4 to 10 ticks over the range.</summary>
    internal static double TickStep(double range)
    {
        double step = Math.Pow(10, Math.Floor(Math.Log10(range)));
        foreach (double m in new[] { 1.0, 0.5, 0.2, 0.1 })
            if (range / (step * m) >= 4) return step * m;
        return step * 0.1;
    }
}
