namespace ShiftBench.Analysis;

/// <summary>A named reference position: grid indices (row, col) and pixel offsets (y, x).</summary>
public sealed record Anchor(string Name, int Row, int Col, int Y, int X);

/// <summary>
/// Anchors as the study defines them: tl = (0, 0), tr = (0, last), c = (n//2, n//2), bl = (last, 0),
/// br = (last, last) in grid-index terms; `Y:X` names any position in pixels of shift (on the grid).
/// </summary>
public static class Anchors
{
    public static readonly string[] Named = ["tl", "tr", "c", "bl", "br"];

    public static IReadOnlyList<Anchor> Parse(IEnumerable<string> specs, IReadOnlyList<int> offsets)
    {
        int n = offsets.Count, last = n - 1;
        var result = new List<Anchor>();
        foreach (var raw in specs.SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            (int row, int col) = raw.ToLowerInvariant() switch
            {
                "tl" => (0, 0),
                "tr" => (0, last),
                "c" => (n / 2, n / 2),
                "bl" => (last, 0),
                "br" => (last, last),
                _ => ParsePixels(raw, offsets),
            };
            string name = raw.Contains(':') ? raw.Replace(':', '_') : raw.ToLowerInvariant();
            if (result.All(a => a.Name != name))
                result.Add(new Anchor(name, row, col, offsets[row], offsets[col]));
        }
        if (result.Count == 0) throw new ShiftBenchException("--anchors is empty: give tl,tr,c,bl,br or positions Y:X");
        return result;
    }

    static (int Row, int Col) ParsePixels(string raw, IReadOnlyList<int> offsets)
    {
        var parts = raw.Split(':');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int y) || !int.TryParse(parts[1], out int x))
            throw new ShiftBenchException($"unknown anchor '{raw}' (--anchors): use tl, tr, c, bl, br or a position Y:X in pixels");
        int row = IndexOf(offsets, y), col = IndexOf(offsets, x);
        if (row < 0 || col < 0)
        {
            int stride = offsets.Count > 1 ? offsets[1] - offsets[0] : 1;
            throw new ShiftBenchException($"anchor {raw} (--anchors) is outside the grid: Y and X must be multiples of the stride {stride} within 0..{offsets[^1]}");
        }
        return (row, col);
    }

    static int IndexOf(IReadOnlyList<int> offsets, int value)
    {
        for (int i = 0; i < offsets.Count; i++) if (offsets[i] == value) return i;
        return -1;
    }
}
