using ShiftBench.Runs;

namespace ShiftBench.Tests;

/// <summary>`run --shard K/N` and `merge RUN_DIR`: the merged run equals the unsharded one byte for byte; a missing or mismatched shard is refused.</summary>
public class ShardTests
{
    static string[] RunArgs(string outDir, string? shard = null, string batch = "4", string layers = "fc7,class", string? features = null) =>
        ["run", "--model", "alexnet", "--variant", "torchvision", "--dataset", "berry", "--weights", "deterministic",
         "--stride", "31", "--layers", layers, "--anchors", "tl,c", "--batch-size", batch, "--out", outDir, .. shard is null ? Array.Empty<string>() : ["--shard", shard],
         .. features is null ? Array.Empty<string>() : ["--features", features]];

    [Test, Category(TestTier.Fast)]
    public void BlocksAreWholeBatchesAndCoverEveryPositionOnce()
    {
        foreach (var (positions, count, batch) in new[] { (25, 3, 4), (17689, 7, 8), (5, 4, 4), (9, 1, 9) })
        {
            var ranges = Enumerable.Range(0, count).Select(k => new ShardSpec(k, count).Range(positions, batch)).ToList();
            Assert.That(ranges[0].Begin, Is.EqualTo(0));
            Assert.That(ranges[^1].End, Is.EqualTo(positions));
            for (int k = 1; k < count; k++) Assert.That(ranges[k].Begin, Is.EqualTo(ranges[k - 1].End), $"{positions}/{count}/{batch} shard {k}");
            Assert.That(ranges.Where(r => r.End < positions), Has.All.Matches<(int Begin, int End)>(r => r.Begin % batch == 0 && r.End % batch == 0));
        }
        Assert.That(Assert.Throws<ShiftBenchException>(() => ShardSpec.Parse("3/3"))!.Message, Does.Contain("0 <= K < N"));
    }

    /// <summary>Without --features the merged folder holds grids only; with --features fp16 also the whole run's features, as an unsharded run writes them.</summary>
    [TestCase(null, Category = TestTier.Fast)]
    [TestCase("fp16")]
    public void MergedShardsEqualTheWholeRunAndMissingOrForeignShardsAreRefused(string? features)
    {
        using var dir = TestPaths.NewTempDir();
        string whole = Path.Combine(dir, "whole"), sharded = Path.Combine(dir, "sharded");
        Assert.That(TestCli.Run(RunArgs(whole, features: features)).Code, Is.EqualTo(0));
        string runDir = Path.Combine(sharded, "berry", "alexnet", "torchvision");

        foreach (var k in new[] { 0, 2 })
            Assert.That(TestCli.Run(RunArgs(sharded, $"{k}/3", features: features)).Code, Is.EqualTo(0));
        var missing = TestCli.Run("merge", runDir);
        Assert.That(missing.Code, Is.EqualTo(2));
        Assert.That(missing.Stderr.Trim().Split('\n')[^1], Does.StartWith($"error: cannot merge {runDir}: shard 1/3 is missing"));

        // Shard 1 made with another batch size, then with other layers: neither is this run's.
        Assert.That(TestCli.Run(RunArgs(sharded, "1/3", batch: "2")).Code, Is.EqualTo(0));
        Assert.That(TestCli.Run("merge", runDir).Stderr, Does.Contain("shard 1/3 used batch size 2, this run 4"));
        Assert.That(TestCli.Run(RunArgs(sharded, "1/3", layers: "fc6,class")).Code, Is.EqualTo(0));
        Assert.That(TestCli.Run("merge", runDir).Stderr, Does.Contain("shard 1/3 was made by another computation"));
        Assert.That(File.Exists(Path.Combine(runDir, "run.json")), Is.False, "nothing is passed off as whole");

        Assert.That(TestCli.Run(RunArgs(sharded, "1/3", features: features)).Code, Is.EqualTo(0));
        var merged = TestCli.Run("merge", runDir);
        Assert.That(merged.Code, Is.EqualTo(0), merged.Stderr);
        string wholeDir = Path.Combine(whole, "berry", "alexnet", "torchvision");
        var files = Directory.EnumerateFiles(wholeDir).Where(f => f.EndsWith(".csv") || f.EndsWith(".npy")).Select(Path.GetFileName).ToList();
        // cos-fc7-tl/c, class, summary (csv), top1, top5; with --features also features-fc7 (fc is not among the layers).
        Assert.That(files, Has.Count.EqualTo(features is null ? 6 : 7));
        Assert.That(files.Count(f => f!.StartsWith("features-")), Is.EqualTo(features is null ? 0 : 1));
        foreach (var file in files)
            Assert.That(File.ReadAllBytes(Path.Combine(runDir, file!)), Is.EqualTo(File.ReadAllBytes(Path.Combine(wholeDir, file!))), file);
        Assert.That(Directory.Exists(Path.Combine(runDir, ".partial")), Is.False);
    }
}
