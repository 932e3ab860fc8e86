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

    public const string Header = "y,x,val";

    /// <summary>One data row of a grid CSV, with its 1-based line number.</summary>
    public readonly record struct Row(int Line, int Y, int X, double Value);

    /// <summary>
    /// The data rows of a `y,x,val` file: the one parser of the format (ours, and the study site's, which ends lines
    /// with CRLF and may start with a BOM). A wrong header or row is a FormatException naming the line; callers
    /// add the file or URL.
    /// </summary>
    public static IEnumerable<Row> Rows(string path)
    {
        int line = 0;
        foreach (var raw in BoundedFile.ReadLines(path))
        {
            line++;
            string text = raw.TrimEnd('\r');
            if (line == 1)
            {
                if (text.TrimStart('\uFEFF').Trim() != Header)
                    throw new FormatException($"line 1 is '{Clip(text)}', expected the header '{Header}'");
                continue;
            }
            if (text.Length == 0) continue;
            var parts = text.Split(',');
            if (parts.Length != 3
                || !int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int y)
                || !int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int x)
                || !double.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
                throw new FormatException($"line {line} is '{Clip(text)}', expected y,x,val (two integers and a number)");
            yield return new Row(line, y, x, value);
        }
        if (line == 0) throw new FormatException("the file is empty");
    }

    static string Clip(string line) => line.Length <= 40 ? line : line[..40] + "...";

    /// <summary>Reads a grid CSV back: values by (row, col) and the pixel offsets per axis.</summary>
    public static (double[,] Grid, int[] Offsets) Read(string path)
    {
        const long MaxRows = (long)Datasets.InputLimits.MaxOffsetsPerAxis * Datasets.InputLimits.MaxOffsetsPerAxis;
        var rows = new List<Row>();
        try
        {
            foreach (var row in Rows(path))
                if (rows.Count == MaxRows) throw new FormatException($"it holds more than {MaxRows} positions (the largest grid)");
                else rows.Add(row);
        }
        catch (FormatException e) { throw new ShiftBenchException($"{path}: {e.Message}; the file is not a ShiftBench grid"); }
        var offsets = rows.Select(r => r.Y).Distinct().Order().ToArray();
        var index = offsets.Select((o, i) => (o, i)).ToDictionary(p => p.o, p => p.i);
        var grid = new double[offsets.Length, offsets.Length];
        foreach (var (line, y, x, v) in rows)
            grid[index[y], index.TryGetValue(x, out int col) ? col
                : throw new ShiftBenchException($"{path}:{line}: x {x} is not one of the grid's offsets (those of y); the file is not a ShiftBench grid")] = v;
        return (grid, offsets);
    }
}
