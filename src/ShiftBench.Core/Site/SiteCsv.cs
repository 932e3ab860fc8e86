using System.Globalization;

namespace ShiftBench.Site;

/// <summary>
/// Reads one of the site's grids and checks it is whole: header `y,x,val` (the site's files end lines
/// with CRLF; LF is accepted too), then one row per stride-1 position of a size x size grid, each once,
/// with a finite value. Problems are FormatExceptions naming the line; callers add the file or URL.
/// </summary>
public static class SiteCsv
{
    public const string Header = Output.GridCsv.Header;

    /// <summary>Values by [y, x] in pixels of shift.</summary>
    public static double[,] Read(string path, int size)
    {
        var grid = new double[size, size];
        var seen = new bool[size, size];
        int count = 0;
        foreach (var (lineNumber, y, x, value) in Output.GridCsv.Rows(path))
        {
            if (y < 0 || x < 0 || y >= size || x >= size)
                throw new FormatException($"line {lineNumber}: position {y},{x} is outside the {size}x{size} grid");
            if (!double.IsFinite(value))
                throw new FormatException($"line {lineNumber}: value {value} is not finite");
            if (seen[y, x])
                throw new FormatException($"line {lineNumber}: position {y},{x} appears twice");
            seen[y, x] = true;
            grid[y, x] = value;
            count++;
        }
        if (count != size * size)
            throw new FormatException($"it has {count} of the {size * size} positions of the {size}x{size} grid");
        return grid;
    }
}
