using System.Text.Json.Nodes;
using ShiftBench.Analysis;
using ShiftBench.Output;

namespace ShiftBench.Tests;

public class EquivarianceTests
{
    /// <summary>Every case of Fixtures/equivariance/equivariance.json, made by NumPy (tools/fixtures/make_equivariance_fixtures.py).</summary>
    static IEnumerable<TestCaseData> Cases() =>
        JsonNode.Parse(File.ReadAllText(TestPaths.Fixture("equivariance", "equivariance.json")))!["cases"]!.AsArray()
            .Select(c => new TestCaseData(c!.ToJsonString()).SetName("Equivariance_" + c!["name"]!.GetValue<string>()));

    [TestCaseSource(nameof(Cases))]
    public void GridEqualsNumPy(string caseJson)
    {
        var c = JsonNode.Parse(caseJson)!;
        var offsets = c["offsets"]!.AsArray().Select(o => o!.GetValue<int>()).ToArray();
        var anchor = c["anchor"]!.AsArray().Select(o => o!.GetValue<int>()).ToArray();
        var shape = new MapShape(c["channels"]!.GetValue<int>(), c["height"]!.GetValue<int>(), c["width"]!.GetValue<int>());
        var grid = Equivariance.Grid(TestPaths.Fixture("equivariance", c["features"]!.GetValue<string>()), offsets.Length, offsets.Length,
            offsets, c["unit"]!.GetValue<double>(), anchor[0], anchor[1], shape, c["stride"]!.GetValue<int>(),
            c["direction"]!.GetValue<int>(), c["circular"]!.GetValue<bool>());
        var expected = c["grid"]!.AsArray();
        int compared = 0;
        for (int r = 0; r < offsets.Length; r++)
            for (int col = 0; col < offsets.Length; col++)
            {
                var e = expected[r]![col];
                if (e is null) { Assert.That(grid[r, col], Is.NaN, $"({r},{col}) is not a whole-cell shift"); continue; }
                Assert.That(grid[r, col], Is.EqualTo(e.GetValue<double>()).Within(1e-9), $"({r},{col})");
                compared++;
            }
        Assert.That(compared, Is.GreaterThan(1), "the case compares the anchor and at least one shift");
    }

    [Test]
    public void ExactlyEquivariantMapsHaveZeroDistanceAndTheMeanSkipsTheAnchor()
    {
        var grid = new double[,] { { 0.5, double.NaN }, { 0.0, 0.25 } };
        Assert.That(Equivariance.Mean(grid, 1, 0), Is.EqualTo(0.375));
        Assert.That(Equivariance.Mean(new double[,] { { 0.0 } }, 0, 0), Is.NaN);
    }

    [TestCase(224, 55, 4)]
    [TestCase(224, 27, 8)]
    [TestCase(224, 13, 16)]
    [TestCase(224, 7, 32)]
    [TestCase(224, 224, 1)]
    [TestCase(224, 112, 2)]
    public void CellStrideIsTheNearestPowerOfTwo(int input, int height, int stride) =>
        Assert.That(Equivariance.CellStride(input, height), Is.EqualTo(stride));

    [Test]
    public void RollingAMapByWholeCellsIsDistanceZeroAndOffByOneIsNot()
    {
        var rng = new Random(7);
        var shape = new MapShape(2, 4, 5);
        var anchor = Enumerable.Range(0, shape.Length).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var rolled = new float[shape.Length];
        for (int ch = 0; ch < 2; ch++)
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 5; j++)
                    rolled[ch * 20 + ((i + 1) % 4) * 5 + (j + 3) % 5] = anchor[ch * 20 + i * 5 + j];
        Assert.That(Equivariance.Distance(anchor, rolled, shape, 1, 3, circular: true), Is.EqualTo(0).Within(1e-12));
        Assert.That(Equivariance.Distance(anchor, rolled, shape, 1, 2, circular: true), Is.GreaterThan(1e-3));
    }
}
