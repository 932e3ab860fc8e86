using System.Globalization;
using System.Text;

namespace ShiftBench.Output;

/// <summary>Grids as CSV: header `y,x,val`, one row per position in y-major order, y and x in pixels of shift.</summary>
public static class GridCsv
{
    public static void Write(string path, double[,] grid, IReadOnlyList<int> offsets)
    {
        var text = new StringBuilder("y,x,val\n");
        for (int r = 0; r < grid.GetLength(0); r++)
            for (int c = 0; c < grid.GetLength(1); c++)
                text.Append(offsets[r]).Append(',').Append(offsets[c]).Append(',')
                    .Append(grid[r, c].ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        AtomicFile.WriteAllText(path, text.ToString());
    }

    /// <summary>Reads a grid CSV back: values by (row, col) and the pixel offsets per axis.</summary>
    public static (double[,] Grid, int[] Offsets) Read(string path)
    {
        var rows = File.ReadLines(path).Skip(1).Where(l => l.Length > 0)
            .Select(l => l.Split(','))
            .Select(p => (Y: int.Parse(p[0], CultureInfo.InvariantCulture), X: int.Parse(p[1], CultureInfo.InvariantCulture),
                          V: double.Parse(p[2], CultureInfo.InvariantCulture)))
            .ToList();
        var offsets = rows.Select(r => r.Y).Distinct().Order().ToArray();
        var index = offsets.Select((o, i) => (o, i)).ToDictionary(p => p.o, p => p.i);
        var grid = new double[offsets.Length, offsets.Length];
        foreach (var (y, x, v) in rows) grid[index[y], index[x]] = v;
        return (grid, offsets);
    }
}
