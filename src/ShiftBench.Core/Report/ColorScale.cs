namespace ShiftBench.Report;

/// <summary>
/// The study site's colour scale: ColorBrewer YlOrRd, reversed so that vmax (1.0, "same as the anchor")
/// is pale yellow and vmin is dark red. The site used d3.interpolateYlOrRd over the domain [1, min];
/// this is the same nine colours interpolated linearly, i.e. matplotlib's "YlOrRd_r", as a 256-entry table
/// shared by the PNG/SVG figures and the HTML report so that both show identical colours.
/// </summary>
public static class ColorScale
{
    static readonly uint[] Anchors = [0xffffcc, 0xffeda0, 0xfed976, 0xfeb24c, 0xfd8d3c, 0xfc4e2a, 0xe31a1c, 0xbd0026, 0x800026];

    /// <summary>Lut[0] is the colour of vmax (pale yellow), Lut[255] that of vmin (dark red).</summary>
    public static readonly IReadOnlyList<(byte R, byte G, byte B)> Lut = BuildLut();

    /// <summary>Colour for NaN cells (a position without a value).</summary>
    public static readonly (byte R, byte G, byte B) Missing = (0xcc, 0xcc, 0xcc);

    static (byte, byte, byte)[] BuildLut()
    {
        var lut = new (byte, byte, byte)[256];
        for (int i = 0; i < 256; i++)
        {
            double pos = i / 255.0 * (Anchors.Length - 1);
            int k = Math.Min((int)pos, Anchors.Length - 2);
            double f = pos - k;
            byte Channel(int shift) => (byte)Math.Round(((Anchors[k] >> shift) & 0xff) * (1 - f) + ((Anchors[k + 1] >> shift) & 0xff) * f);
            lut[i] = (Channel(16), Channel(8), Channel(0));
        }
        return lut;
    }

    /// <summary>
    /// How far below vmax a degenerate range's minimum is put: a constant grid (a perfectly invariant layer, or a
    /// single position) has min == max, which no scale can span, yet it is exactly what the tool looks for.
    /// </summary>
    public const double DegenerateSpan = 0.01;

    /// <summary>
    /// A range every heatmap can draw: (vmin, vmax) when vmin is finite and below vmax; otherwise (a constant
    /// grid, or a data minimum at vmax) vmin becomes vmax - <see cref="DegenerateSpan"/>, so the cells show the top colour.
    /// </summary>
    public static (double Min, double Max) Drawable(double vmin, double vmax)
    {
        if (!double.IsFinite(vmax)) vmax = 1.0;
        return double.IsFinite(vmin) && vmin < vmax ? (vmin, vmax) : (vmax - DegenerateSpan, vmax);
    }

    /// <summary>A user's --vmin, checked before any work: a finite number below vmax (the top of the scale, 1 for cosines and probabilities).</summary>
    public static void CheckMinimum(double? vmin, double vmax = 1.0)
    {
        if (vmin is { } v && !(double.IsFinite(v) && v < vmax))
            throw new ShiftBenchException($"--vmin {v.ToString(System.Globalization.CultureInfo.InvariantCulture)} must be a finite number below {vmax.ToString(System.Globalization.CultureInfo.InvariantCulture)} (the top of the colour scale), e.g. --vmin 0.5");
    }

    /// <summary>Table index for a value: 0 at vmax and above, 255 at vmin and below (the report's JS uses the same formula).</summary>
    public static int Index(double value, double vmin, double vmax)
    {
        double t = vmax > vmin ? (vmax - value) / (vmax - vmin) : 0;
        return (int)Math.Round(Math.Clamp(t, 0, 1) * 255, MidpointRounding.AwayFromZero);
    }

    public static (byte R, byte G, byte B) Map(double value, double vmin, double vmax) =>
        double.IsNaN(value) ? Missing : Lut[Index(value, vmin, vmax)];

    /// <summary>ScottPlot colormap over the same table; ScottPlot passes 0 for its range minimum and 1 for the maximum.</summary>
    internal sealed class ScottPlotColormap : ScottPlot.IColormap
    {
        public string Name => "YlOrRd_r (study site)";

        public ScottPlot.Color GetColor(double normalizedIntensity)
        {
            if (double.IsNaN(normalizedIntensity))
                return new ScottPlot.Color(Missing.R, Missing.G, Missing.B);
            var (r, g, b) = Lut[(int)Math.Round(Math.Clamp(1 - normalizedIntensity, 0, 1) * 255, MidpointRounding.AwayFromZero)];
            return new ScottPlot.Color(r, g, b);
        }
    }
}
