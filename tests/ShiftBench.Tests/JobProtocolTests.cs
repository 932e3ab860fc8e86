using System.Diagnostics;
using System.Text.Json.Nodes;
using ShiftBench.Output;
using ShiftBench.Runs;

namespace ShiftBench.Tests;

/// <summary>
/// The job protocol of result folders (Runs/ResultJob.cs) with real processes: a second writer is refused naming the
/// holder, a dead holder's lock is taken over, and a process killed (SIGKILL, through the test-only
/// SHIFTBENCH_TEST_HOOK) at any point of its final phase is resumed to the files of an uninterrupted run.
/// </summary>
[TestFixture, NonParallelizable]
public class JobProtocolTests
{
    TestPaths.TempDir scratch = null!;
    string reference = "";

    /// <summary>With a stored feature matrix, whose move into place is what the final phase once lost (12 final files).</summary>
    static string[] RunArgs(string outDir, params string[] extra) =>
        ["run", "--model", "alexnet", "--variant", "torchvision", "--dataset", "berry", "--weights", "deterministic",
         "--stride", "31", "--layers", "fc7,class", "--anchors", "tl,c", "--batch-size", "4", "--features", "fp32", "--out", outDir, .. extra];

    static string RunDir(string outDir) => Path.Combine(outDir, "berry", "alexnet", "torchvision");

    /// <summary>The CLI with the test hook set (or, null, removed: the caller's environment never leaks in).</summary>
    internal static (int Code, string Stdout, string Stderr) Cli(string? hook, params string[] args) =>
        TestCli.RunProcessWith(new Dictionary<string, string?> { [JobTestHook.Variable] = hook }, args);

    [OneTimeSetUp]
    public void UninterruptedRun()
    {
        scratch = TestPaths.NewTempDir();
        string outDir = Path.Combine(scratch, "reference");
        var run = Cli(null, RunArgs(outDir));
        Assert.That(run.Code, Is.EqualTo(0), run.Stderr);
        reference = RunDir(outDir);
    }

    [OneTimeTearDown]
    public void Remove() => scratch.Dispose();

    /// <summary>Fields of a completion file (run.json, consistency's summary.json) that say when and how fast, or name the --out folder.</summary>
    static readonly string[] Circumstantial = ["command", "command_line", "timings", "finished_utc", "images_per_second", "crops_per_second"];

    /// <summary>
    /// Every file below <paramref name="actual"/> (work areas and lock files included) is one of <paramref name="expected"/>'s
    /// and has its bytes; run.json and summary.json are compared as JSON without <see cref="Circumstantial"/> fields
    /// (nor <paramref name="alsoDiffering"/>).
    /// </summary>
    internal static void AssertSameFiles(string expected, string actual, params string[] alsoDiffering)
    {
        static List<string> Files(string dir) => [.. Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(dir, f)).Order(StringComparer.Ordinal)];
        var names = Files(expected);
        Assert.That(names, Has.Count.GreaterThanOrEqualTo(2));
        Assert.That(Files(actual), Is.EqualTo(names), "the same files, nothing left over");
        foreach (var name in names)
        {
            string a = Path.Combine(expected, name), b = Path.Combine(actual, name);
            if (name is RunLayout.RunJson or RunLayout.SummaryJson)
            {
                JsonNode Essential(string path)
                {
                    var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
                    foreach (var field in Circumstantial.Concat(alsoDiffering)) json.Remove(field);
                    return json;
                }
                Assert.That(Essential(b).ToJsonString(), Is.EqualTo(Essential(a).ToJsonString()), name);
            }
            else
                Assert.That(File.ReadAllBytes(b), Is.EqualTo(File.ReadAllBytes(a)), name);
        }
        string completion = names.Contains(RunLayout.RunJson) ? RunLayout.RunJson : RunLayout.SummaryJson;
        Assert.That(completion == RunLayout.RunJson ? RunRecord.Read(actual)!.Complete : ConsistencySummaryRecord.Read(actual)!.Complete, Is.True, completion);
    }

    /// <summary>
    /// Every file below a folder with its bytes, to show a refused command changed nothing (a lock file held by a
    /// running process cannot be read: its name only).
    /// </summary>
    internal static Dictionary<string, byte[]> Snapshot(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(dir, f),
            f => f.EndsWith(ResultJob.LockSuffix) ? [] : File.ReadAllBytes(f));

    [Test]
    public void ASecondWriterIsRefusedInOneLineNamingTheHolder()
    {
        string outDir = Path.Combine(scratch, "two-writers"), marker = Path.Combine(scratch, "paused");
        using var first = TestCli.StartWith(new Dictionary<string, string?> { [JobTestHook.Variable] = $"pause@batch:1@{marker}" }, RunArgs(outDir));
        var firstErr = first.StandardError.ReadToEndAsync();
        var firstOut = first.StandardOutput.ReadToEndAsync();
        Assert.That(SpinWait.SpinUntil(() => File.Exists(marker) || first.HasExited, TimeSpan.FromMinutes(3)), Is.True, "the first run reached its first batch");
        Assert.That(first.HasExited, Is.False, firstErr.IsCompleted ? firstErr.Result : "");
        var before = Snapshot(RunDir(outDir));

        var second = Cli(null, RunArgs(outDir));
        Assert.That(second.Code, Is.EqualTo(2), second.Stderr);
        var lines = second.Stderr.Trim().Split('\n');
        Assert.That(lines, Has.Length.EqualTo(1), second.Stderr);
        Assert.That(lines[0], Does.StartWith($"error: {RunDir(outDir)} is being written by another shiftbench (process {first.Id} "));
        Assert.That(Snapshot(RunDir(outDir)), Is.EqualTo(before), "the refused writer changed nothing");

        File.Delete(marker);
        Assert.That(first.WaitForExit(TimeSpan.FromMinutes(3)), Is.True);
        Assert.That(first.ExitCode, Is.EqualTo(0), firstErr.Result);
        Assert.That(firstOut.Result, Does.Contain("25 positions"));
        AssertSameFiles(reference, RunDir(outDir));
    }

    [Test]
    public void ADeadHoldersLockIsTakenOverAndItsRunResumed()
    {
        string outDir = Path.Combine(scratch, "dead-holder");
        Assert.That(Cli("kill@batch:2", RunArgs(outDir)).Code, Is.EqualTo(137), "killed by SIGKILL after its second batch");
        Assert.That(File.Exists(Path.Combine(RunDir(outDir), ResultJob.LockFile)), Is.True, "a killed holder leaves its lock file");
        Assert.That(JobProgress.Read(Path.Combine(RunDir(outDir), RunLayout.PartialFolder))!.Next, Is.EqualTo(8));

        var resumed = Cli(null, RunArgs(outDir, "--resume"));
        Assert.That(resumed.Code, Is.EqualTo(0), resumed.Stderr);
        AssertSameFiles(reference, RunDir(outDir));
    }

    /// <summary>
    /// The 12 final files are staged, commit.json written (commit:0), renamed one by one (commit:K) with run.json last
    /// (commit:12 has every file in place but the work area not yet deleted). Each resume finishes the run; a second
    /// resume finds it complete (before, every later resume failed on a feature file already moved).
    /// </summary>
    [TestCase("staged")]
    [TestCase("commit:0")]
    [TestCase("commit:5")]
    [TestCase("commit:11")]
    [TestCase("commit:12")]
    public void AKillInTheFinalPhaseIsResumedToTheFilesOfAnUninterruptedRun(string point)
    {
        string outDir = Path.Combine(scratch, point.Replace(':', '-'));
        Assert.That(Cli($"kill@{point}", RunArgs(outDir)).Code, Is.EqualTo(137));
        Assert.That(RunLayout.IsComplete(RunDir(outDir)), Is.EqualTo(point == "commit:12"), "complete only once run.json, the last rename, is in place");
        Assert.That(File.Exists(Path.Combine(RunDir(outDir), RunLayout.PartialFolder, CommitRecord.FileName)), Is.EqualTo(point != "staged"));

        foreach (var attempt in new[] { "first", "second" })
        {
            var resumed = Cli(null, RunArgs(outDir, "--resume"));
            Assert.That(resumed.Code, Is.EqualTo(0), $"{attempt} resume: {resumed.Stderr}");
        }
        AssertSameFiles(reference, RunDir(outDir));
    }

    [Test]
    public void AConsistencyRunKilledWhileCommittingIsResumedToTheSameFiles()
    {
        string images = Path.Combine(scratch, "photos");
        Directory.CreateDirectory(images);
        foreach (var name in new[] { "plane.png", "berry_transparent.png" }) File.Copy(Path.Combine(TestPaths.DataDir, name), Path.Combine(images, name));
        string[] Args(string outDir, params string[] extra) =>
            ["consistency", "--model", "alexnet", "--variant", "torchvision", "--weights", "deterministic", "--images", images,
             "--pairs-per-image", "2", "--batch-size", "2", "--out", outDir, .. extra];
        string whole = Path.Combine(scratch, "consistency-whole"), killed = Path.Combine(scratch, "consistency-killed");
        Assert.That(Cli(null, Args(whole)).Code, Is.EqualTo(0));

        Assert.That(Cli("kill@commit:1", Args(killed)).Code, Is.EqualTo(137));
        string run = RunLayout.ConsistencyDirectory(killed, "alexnet", "torchvision", images);
        Assert.That(File.Exists(Path.Combine(run, RunLayout.SummaryJson)), Is.False);
        var resumed = Cli(null, Args(killed, "--resume"));
        Assert.That(resumed.Code, Is.EqualTo(0), resumed.Stderr);
        AssertSameFiles(RunLayout.ConsistencyDirectory(whole, "alexnet", "torchvision", images), run);
    }
}
