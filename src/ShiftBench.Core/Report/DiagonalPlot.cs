using ScottPlot;

namespace ShiftBench.Report;

/// <summary>`consistency --diagonal`'s figure: mean target probability and accuracy (both in %) against the diagonal shift.</summary>
public static class DiagonalPlot
{
    public const int Width = 640, Height = 420;

    /// <param name="extension">".png" or ".svg" (the path may be a temporary name without one).</param>
    public static void Save(string path, string extension, string title, IReadOnlyList<double> meanProb, IReadOnlyList<double> accuracy)
    {
        var plot = new Plot();
        var shifts = Enumerable.Range(0, meanProb.Count).Select(d => (double)d).ToArray();
        var prob = plot.Add.Scatter(shifts, meanProb.Select(v => 100 * v).ToArray());
        prob.LegendText = "mean target probability (%)";
        var acc = plot.Add.Scatter(shifts, accuracy.Select(v => 100 * v).ToArray());
        acc.LegendText = "accuracy (%)";
        plot.Title(title);
        plot.XLabel("diagonal shift (px): crop at (d, d)");
        plot.YLabel("%");
        plot.Axes.SetLimitsY(0, 100);
        plot.ShowLegend(Alignment.LowerRight);
        if (extension == ".svg") File.WriteAllText(path, plot.GetSvgXml(Width, Height));
        else File.WriteAllBytes(path, plot.GetImageBytes(Width, Height, ImageFormat.Png));
    }
}
