using ShiftBench.Output;
using ShiftBench.Runs;

namespace ShiftBench.Tests;

/// <summary>
/// Shards carry a SHA-256 per file (manifest.json); `merge` refuses a damaged shard in one line naming the file, exit 2,
/// before writing anything. Three shards are made once; each case damages one file of a fresh copy of them.
/// </summary>
[TestFixture, NonParallelizable]
public class VerifiedShardTests
{
    TestPaths.TempDir scratch = null!;
    string runDir = "", pristine = "", whole = "";

    static string[] RunArgs(string outDir, params string[] extra) =>
        ["run", "--model", "alexnet", "--variant", "torchvision", "--dataset", "berry", "--weights", "deterministic",
         "--stride", "31", "--layers", "fc7,class", "--anchors", "tl,c", "--batch-size", "4", "--out", outDir, .. extra];

    string Partial => Path.Combine(runDir, RunLayout.PartialFolder);
    string ShardFile(int k, string name) => Path.Combine(Partial, $"shard-{k}-of-3", name);

    [OneTimeSetUp]
    public void MakeShards()
    {
        scratch = TestPaths.NewTempDir();
        string outDir = Path.Combine(scratch, "sharded");
        runDir = Path.Combine(outDir, "berry", "alexnet", "torchvision");
        for (int k = 0; k < 3; k++)
        {
            var shard = TestCli.Run(RunArgs(outDir, "--shard", $"{k}/3"));
            Assert.That(shard.Code, Is.EqualTo(0), shard.Stderr);
        }
        pristine = Path.Combine(scratch, "pristine");
        CopyTree(Partial, pristine);
        string wholeOut = Path.Combine(scratch, "whole");
        Assert.That(TestCli.Run(RunArgs(wholeOut)).Code, Is.EqualTo(0));
        whole = Path.Combine(wholeOut, "berry", "alexnet", "torchvision");
    }

    [OneTimeTearDown]
    public void Remove() => scratch.Dispose();

    /// <summary>The shards as made (merge needs them at the folder their args.json names).</summary>
    [SetUp]
    public void Restore()
    {
        if (Directory.Exists(runDir)) Directory.Delete(runDir, recursive: true);
        CopyTree(pristine, Partial);
    }

    static void CopyTree(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    [Test]
    public void EveryShardIsSealedWithTheChecksumsOfItsFiles()
    {
        for (int k = 0; k < 3; k++)
        {
            var manifest = ShardManifest.Read(ShardedRun.ShardDirectory(runDir, new ShardSpec(k, 3)))!;
            Assert.That(manifest.Files.Select(f => f.Name), Is.EqualTo(new[] { RunLayout.RunArgumentsFile, "features-fc.npy", "features-fc7.npy", RunLayout.StoredFeaturesFile }));
            foreach (var file in manifest.Files)
                Assert.That((file.Bytes, file.Sha256), Is.EqualTo((new FileInfo(ShardFile(k, file.Name)).Length, FileHash.Sha256(ShardFile(k, file.Name)))), $"shard {k} {file.Name}");
            Assert.That((manifest.Begin, manifest.End), Is.EqualTo(new ShardSpec(k, 3).Range(25, 4)));
        }
        var resumed = TestCli.Run(RunArgs(Path.Combine(scratch, "sharded"), "--shard", "1/3", "--resume"));
        Assert.That(resumed.Code, Is.EqualTo(0), resumed.Stderr);
        Assert.That(JobProtocolTests.Snapshot(Partial), Is.EqualTo(JobProtocolTests.Snapshot(pristine)), "a sealed shard is not computed again under --resume");
    }

    [Test]
    public void SoundShardsMergeToTheWholeRun()
    {
        var merged = TestCli.Run("merge", runDir);
        Assert.That(merged.Code, Is.EqualTo(0), merged.Stderr);
        // run.json of a merge says how it was made: 3 shards, and no reuse record (each shard's run knew it).
        JobProtocolTests.AssertSameFiles(whole, runDir, "shards", "reuse");
    }

    [TestCase(1, "features-fc7.npy", "truncate", "is truncated (")]
    [TestCase(1, "features-fc7.npy", "empty", "is truncated (0 bytes")]
    [TestCase(2, "features-fc.npy", "header", "is corrupt (its SHA-256 differs from manifest.json)")]
    [TestCase(0, "features-fc7.npy", "bitflip", "is corrupt (its SHA-256 differs from manifest.json)")]
    [TestCase(1, "features-fc.npy", "delete", "is missing")]
    [TestCase(0, "args.json", "tear", "is corrupt (its SHA-256 differs from manifest.json)")]
    [TestCase(2, "manifest.json", "tear", "is damaged (")]
    [TestCase(1, "progress.json", "unseal-and-tear", "is damaged (")]
    public void ADamagedShardIsRefusedNamingTheFileBeforeAnythingIsWritten(int shard, string name, string damage, string expected)
    {
        string path = ShardFile(shard, name);
        var bytes = File.ReadAllBytes(path);
        switch (damage)
        {
            case "truncate": File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]); break;
            case "empty": File.WriteAllBytes(path, []); break;
            case "header": "garbage!!!"u8.CopyTo(bytes); File.WriteAllBytes(path, bytes); break;
            case "bitflip": bytes[bytes.Length - 7] ^= 0x10; File.WriteAllBytes(path, bytes); break;
            case "delete": File.Delete(path); break;
            case "tear": File.WriteAllBytes(path, bytes[..(bytes.Length / 3)]); break;
            case "unseal-and-tear":
                File.Delete(ShardFile(shard, ShardManifest.FileName));
                File.WriteAllBytes(path, bytes[..(bytes.Length / 3)]);
                break;
        }
        var before = JobProtocolTests.Snapshot(runDir);

        var merge = TestCli.Run("merge", runDir);

        Assert.That(merge.Code, Is.EqualTo(2), merge.Stderr);
        var lines = merge.Stderr.Trim().Split('\n');
        Assert.That(lines, Has.Length.EqualTo(1), merge.Stderr);
        Assert.That(lines[0], Does.StartWith($"error: cannot merge {runDir}: shard {shard}/3: {path} {expected}"));
        Assert.That(JobProtocolTests.Snapshot(runDir), Is.EqualTo(before), "nothing written, nothing left behind");
    }
}
