using System.Text.Json;

namespace ShiftBench.Tests;

/// <summary>The files written by tools/fixtures/make_weight_fixtures.py (real PyTorch 1.13) and the
/// values PyTorch computed for them (expected.json).</summary>
internal static class WeightsFixtures
{
    public static string Dir => Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "weights");

    public static string File(string name) => Path.Combine(Dir, name);

    public static string File(string @case, string format) => File($"{@case}_{format}.pth");

    private static readonly Lazy<JsonElement> Expected = new(() =>
        JsonDocument.Parse(System.IO.File.ReadAllText(File("expected.json"))).RootElement);

    public sealed record Entry(string Name, long[] Shape, string DType, double[] Values);

    public static IReadOnlyList<Entry> Entries(string @case) => Expected.Value.GetProperty(@case).EnumerateArray()
        .Select(e => new Entry(
            e.GetProperty("name").GetString()!,
            e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()).ToArray(),
            e.TryGetProperty("dtype", out var d) ? d.GetString()! : "",
            e.TryGetProperty("values", out var v) ? v.EnumerateArray().Select(x => x.GetDouble()).ToArray() : []))
        .ToList();

    public static (long[] Shape, float[] Values) Forward(string part)
    {
        var forward = Expected.Value.GetProperty("forward");
        return (forward.GetProperty(part + "_shape").EnumerateArray().Select(v => v.GetInt64()).ToArray(),
                forward.GetProperty(part).EnumerateArray().Select(v => (float)v.GetDouble()).ToArray());
    }
}
