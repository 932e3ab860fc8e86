using System.Globalization;

namespace ShiftBench.Site;

/// <summary>
/// Reads one of the site's grids and checks it is whole: header `y,x,val` (the site's files end lines
/// with CRLF; LF is accepted too), then one row per stride-1 position of a size x size grid, each once,
/// with a finite value. Problems are FormatExceptions naming the line; callers add the file or URL.
/// </summary>
public static class SiteCsv
{
    public const string Header = "y,x,val";

    /// <summary>Values by [y, x] in pixels of shift.</summary>
    public static double[,] Read(string path, int size)
    {
        var grid = new double[size, size];
        var seen = new bool[size, size];
        int count = 0, lineNumber = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNumber++;
            string line = raw.TrimEnd('\r');
            if (lineNumber == 1)
            {
                if (line.TrimStart('\uFEFF') != Header)
                    throw new FormatException($"line 1 is '{Clip(line)}', expected the header '{Header}'");
                continue;
            }
            if (line.Length == 0) continue;
            var parts = line.Split(',');
            if (parts.Length != 3
                || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int y)
                || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int x)
                || !double.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
                throw new FormatException($"line {lineNumber} is '{Clip(line)}', expected y,x,val (two integers and a number)");
            if (y >= size || x >= size)
                throw new FormatException($"line {lineNumber}: position {y},{x} is outside the {size}x{size} grid");
            if (!double.IsFinite(value))
                throw new FormatException($"line {lineNumber}: value '{parts[2]}' is not finite");
            if (seen[y, x])
                throw new FormatException($"line {lineNumber}: position {y},{x} appears twice");
            seen[y, x] = true;
            grid[y, x] = value;
            count++;
        }
        if (lineNumber == 0)
            throw new FormatException("the file is empty");
        if (count != size * size)
            throw new FormatException($"it has {count} of the {size * size} positions of the {size}x{size} grid");
        return grid;
    }

    static string Clip(string line) => line.Length <= 40 ? line : line[..40] + "...";
}
