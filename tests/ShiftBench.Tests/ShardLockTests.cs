using System.Diagnostics;
using ShiftBench.Runs;

namespace ShiftBench.Tests;

/// <summary>
/// Issue #21 item 2, shards beside other writers, through real processes: shards of one run folder work side by side,
/// but a whole run or merge (which owns RESULT/.partial, where the shards work) is refused while a shard runs, and a
/// shard while a whole run does, in one line naming the holder's PID; the refused writer touches nothing.
/// </summary>
[TestFixture]
public class ShardLockTests
{
    TestPaths.TempDir scratch = null!;

    [SetUp]
    public void NewFolder() => scratch = TestPaths.NewTempDir();

    [TearDown]
    public void Remove() => scratch.Dispose();

    static string[] RunArgs(string outDir, params string[] extra) =>
        ["run", "--model", "alexnet", "--variant", "torchvision", "--dataset", "berry", "--weights", "deterministic",
         "--stride", "31", "--layers", "fc7,class", "--anchors", "tl,c", "--batch-size", "4", "--out", outDir, .. extra];

    static string RunDir(string outDir) => Path.Combine(outDir, "berry", "alexnet", "torchvision");

    /// <summary>A CLI process stopped at its first progress write (the hook waits while the marker file exists).</summary>
    sealed class Paused : IDisposable
    {
        public readonly Process Process;
        readonly string marker;
        readonly Task<string> stderr, stdout;

        public Paused(string marker, string[] args)
        {
            this.marker = marker;
            Process = TestCli.StartWith(new Dictionary<string, string?> { [JobTestHook.Variable] = $"pause@batch:1@{marker}" }, args);
            stderr = Process.StandardError.ReadToEndAsync();
            stdout = Process.StandardOutput.ReadToEndAsync();
            Assert.That(SpinWait.SpinUntil(() => File.Exists(marker) || Process.HasExited, TimeSpan.FromMinutes(3)), Is.True, "the paused writer reached its first batch");
            Assert.That(Process.HasExited, Is.False, stderr.IsCompleted ? stderr.Result : "");
        }

        /// <summary>Lets it go on, and asserts it then finishes well.</summary>
        public void Resume()
        {
            File.Delete(marker);
            Assert.That(Process.WaitForExit(TimeSpan.FromMinutes(3)), Is.True, "the paused writer finished");
            Assert.That(Process.ExitCode, Is.Zero, stderr.Result);
            stdout.Wait();
        }

        public void Dispose()
        {
            if (File.Exists(marker)) File.Delete(marker);
            if (!Process.HasExited) Process.Kill(entireProcessTree: true);
            Process.Dispose();
        }
    }

    static void AssertRefusedNaming((int Code, string Stdout, string Stderr) result, string folder, Process holder)
    {
        Assert.That(result.Code, Is.EqualTo(2), result.Stderr);
        var lines = result.Stderr.Trim().Split('\n');
        Assert.That(lines, Has.Length.EqualTo(1), result.Stderr);
        Assert.That(lines[0], Does.StartWith($"error: {folder} is being written by another shiftbench (process {holder.Id} "));
    }

    [Test]
    public void AWholeRunIsRefusedWhileAShardRunsAndLeavesItsWorkAlone()
    {
        string outDir = Path.Combine(scratch, "out");
        using var shard = new Paused(Path.Combine(scratch, "paused"), RunArgs(outDir, "--shard", "0/2"));
        var before = JobProtocolTests.Snapshot(RunDir(outDir));

        AssertRefusedNaming(TestCli.RunProcess(RunArgs(outDir)), RunDir(outDir), shard.Process);
        AssertRefusedNaming(TestCli.RunProcess(RunArgs(outDir, "--merge")), RunDir(outDir), shard.Process);
        Assert.That(JobProtocolTests.Snapshot(RunDir(outDir)), Is.EqualTo(before), "the refused writers changed nothing");
        shard.Resume();
    }

    [Test]
    public void AShardIsRefusedWhileAWholeRunRuns()
    {
        string outDir = Path.Combine(scratch, "out");
        using var whole = new Paused(Path.Combine(scratch, "paused"), RunArgs(outDir));
        var before = JobProtocolTests.Snapshot(RunDir(outDir));

        AssertRefusedNaming(TestCli.RunProcess(RunArgs(outDir, "--shard", "1/2")), RunDir(outDir), whole.Process);
        Assert.That(JobProtocolTests.Snapshot(RunDir(outDir)), Is.EqualTo(before), "the refused shard changed nothing");
        whole.Resume();
    }

    [Test]
    public void ShardsRunSideBySideAndAWholeRunKeepsTheirFolders()
    {
        string outDir = Path.Combine(scratch, "out");
        using (var first = new Paused(Path.Combine(scratch, "paused"), RunArgs(outDir, "--shard", "0/2")))
        {
            var second = TestCli.RunProcess(RunArgs(outDir, "--shard", "1/2"));
            Assert.That(second.Code, Is.Zero, second.Stderr);
            first.Resume();
        }
        string shardDir = ShardedRun.ShardDirectory(RunDir(outDir), new ShardSpec(1, 2));
        var shardFiles = JobProtocolTests.Snapshot(shardDir);
        Assert.That(shardFiles, Is.Not.Empty);

        // A whole run started (and stopped at its first batch) over finished shards resets only its own work.
        using (var whole = new Paused(Path.Combine(scratch, "paused-whole"), RunArgs(outDir)))
            Assert.That(JobProtocolTests.Snapshot(shardDir), Is.EqualTo(shardFiles), "the whole run's fresh start kept the shard's folder");
        var merge = TestCli.RunProcess(RunArgs(outDir, "--merge"));
        Assert.That(merge.Code, Is.Zero, merge.Stderr);
        Assert.That(File.Exists(Path.Combine(RunDir(outDir), "run.json")), Is.True);
    }
}
