namespace ShiftBench.Models;

/// <summary>Suggestions for a mistyped layer: the names closest to what was written.</summary>
public static class NearestNames
{
    /// <summary>Up to <paramref name="count"/> candidates, quoted: containing the name (or contained in it) first, then by edit distance.</summary>
    public static IReadOnlyList<string> Of(IEnumerable<string> candidates, string name, int count = 5) =>
        candidates
            .OrderBy(t => t.Contains(name, StringComparison.OrdinalIgnoreCase) || name.Contains(t, StringComparison.OrdinalIgnoreCase) ? 0 : 1)
            .ThenBy(t => EditDistance(t.ToLowerInvariant(), name.ToLowerInvariant())).ThenBy(t => t, StringComparer.Ordinal)
            .Take(count).Select(t => $"'{t}'").ToList();

    static int EditDistance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int next = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = row[j];
                row[j] = next;
            }
        }
        return row[b.Length];
    }
}
