using ShiftBench.Output;

namespace ShiftBench.Analysis;

/// <summary>The [C, H, W] of a feature map kept whole (`LAYER@map`).</summary>
public sealed record MapShape(int Channels, int Height, int Width)
{
    public int Length => Channels * Height * Width;
}

/// <summary>
/// Feature-map equivariance (docs/metrics.md): how far the map F(x_p) at position p is from the anchor's map
/// F(x_a) moved by the same shift in map cells. A shift of d pixels is d / S cells for a map of cell stride S;
/// only shifts where that is a whole number along both axes are compared (the rule), every other position is NaN.
/// The distance is the cosine distance 1 - cos(F(x_p), T_k F(x_a)) over the cells both maps cover
/// (circular datasets: all cells, the anchor's map rolled).
/// </summary>
public static class Equivariance
{
    /// <summary>The summary metric's name (summary.json, compare, figure profile --metric).</summary>
    public const string Metric = "equivariance";

    /// <summary>
    /// The cell stride of a map of height <paramref name="mapHeight"/> for inputs of <paramref name="inputSize"/>:
    /// the power of two nearest to input/height (224/55 -> 4, 224/13 -> 16, 224/7 -> 32), since padding makes the ratio inexact.
    /// </summary>
    public static int CellStride(int inputSize, int mapHeight)
    {
        if (inputSize < 1 || mapHeight < 1) throw new ArgumentOutOfRangeException(nameof(mapHeight));
        return 1 << (int)Math.Max(0, Math.Round(Math.Log2((double)inputSize / mapHeight)));
    }

    /// <summary>
    /// 1 - cos between map[c, i, j] and anchor[c, i - ky, j - kx] over the cells (i, j) where both exist
    /// (circular: indices wrap). NaN when no cell overlaps; a zero vector counts as cosine 0.
    /// </summary>
    public static double Distance(ReadOnlySpan<float> anchor, ReadOnlySpan<float> map, MapShape shape, int ky, int kx, bool circular)
    {
        int h = shape.Height, w = shape.Width, plane = h * w;
        double dot = 0, nm = 0, na = 0;
        int cells = 0;
        for (int i = 0; i < h; i++)
        {
            int ai = i - ky;
            if (circular) ai = ((ai % h) + h) % h;
            else if (ai < 0 || ai >= h) continue;
            for (int j = 0; j < w; j++)
            {
                int aj = j - kx;
                if (circular) aj = ((aj % w) + w) % w;
                else if (aj < 0 || aj >= w) continue;
                cells++;
                for (int c = 0; c < shape.Channels; c++)
                {
                    double m = map[c * plane + i * w + j], a = anchor[c * plane + ai * w + aj];
                    dot += m * a; nm += m * m; na += a * a;
                }
            }
        }
        if (cells == 0) return double.NaN;
        double norms = Math.Sqrt(nm) * Math.Sqrt(na);
        return 1 - CosineGrids.Clamp(norms > 1e-12 ? dot / norms : 0);
    }

    /// <summary>The shift in cells for a shift of <paramref name="pixels"/>, or null when it is not whole.</summary>
    public static int? WholeCells(double pixels, int cellStride, int direction)
    {
        double cells = direction * pixels / cellStride;
        double rounded = Math.Round(cells);
        return Math.Abs(cells - rounded) < 1e-9 ? (int)rounded : null;
    }

    /// <summary>
    /// The distance grid of a run's `@map` features against the anchor at (anchorRow, anchorCol).
    /// <paramref name="pixelsPerOffset"/> converts grid offsets to pixels (1 but for sub-pixel runs).
    /// </summary>
    public static double[,] Grid(string featuresPath, int rows, int cols, IReadOnlyList<int> offsets, double pixelsPerOffset,
        int anchorRow, int anchorCol, MapShape shape, int cellStride, int direction, bool circular)
    {
        using var file = NpyRowFile.OpenRead(featuresPath);
        if (file.Cols != shape.Length)
            throw new ShiftBenchException($"{featuresPath} holds {file.Cols} values per position but the map is {shape.Channels}x{shape.Height}x{shape.Width}; rerun that run");
        var anchor = new float[shape.Length];
        file.ReadRows(anchorRow * cols + anchorCol, anchor);
        var map = new float[shape.Length];
        var grid = new double[rows, cols];
        for (int r = 0; r < rows; r++)
        {
            int? ky = WholeCells((offsets[r] - offsets[anchorRow]) * pixelsPerOffset, cellStride, direction);
            for (int c = 0; c < cols; c++)
            {
                int? kx = WholeCells((offsets[c] - offsets[anchorCol]) * pixelsPerOffset, cellStride, direction);
                if (ky is null || kx is null) { grid[r, c] = double.NaN; continue; }
                file.ReadRows(r * cols + c, map);
                grid[r, c] = Distance(anchor, map, shape, ky.Value, kx.Value, circular);
            }
        }
        return grid;
    }

    /// <summary>Mean distance over the compared positions other than the anchor (NaN when there are none).</summary>
    public static double Mean(double[,] grid, int anchorRow, int anchorCol)
    {
        double sum = 0;
        int count = 0;
        for (int r = 0; r < grid.GetLength(0); r++)
            for (int c = 0; c < grid.GetLength(1); c++)
                if ((r, c) != (anchorRow, anchorCol) && !double.IsNaN(grid[r, c])) { sum += grid[r, c]; count++; }
        return count == 0 ? double.NaN : sum / count;
    }
}
