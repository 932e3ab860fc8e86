using System.Diagnostics;
using System.Text.RegularExpressions;
using ShiftBench.Runs;
using ShiftBench.Workflows;

namespace ShiftBench.Tests;

/// <summary>
/// Sharded sweeps on a real one-node Slurm cluster that these tests start (tools/slurm/local-cluster.sh: Debian's
/// munged, slurmctld and slurmd as root) and stop by process id. The merged run folders must equal a local
/// unsharded sweep's byte for byte, also after a cancelled task is resubmitted.
/// </summary>
[NonParallelizable]
public class SlurmTests
{
    string clusterDir = null!;
    string slurmConf = null!;

    internal const string TwoCells = "models: [alexnet]\nvariants: [torchvision, antialiased]\ndatasets: [berry]\nstrides: [62]\nlayers: [fc7, class]\nanchors: [tl, c]\nweights: deterministic\nbatch_size: 2\n" +
        "slurm:\n  time: \"00:10:00\"\n  cpus_per_task: 1\n  mem: 2G\n  extra: [\"#SBATCH --nice=0\"]\n";

    static string Script => Path.Combine(TestPaths.RepoRoot, "tools", "slurm", "local-cluster.sh");

    /// <summary>Runs a tool (with SLURM_CONF when given) and returns its exit code and all it printed.</summary>
    static (int Code, string Output) Tool(string tool, string? slurmConf, params string[] args)
    {
        var info = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false }.Isolate();
        foreach (var a in args) info.ArgumentList.Add(a);
        if (slurmConf is not null) info.Environment["SLURM_CONF"] = slurmConf;
        using var p = Process.Start(info)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output + err.Result);
    }

    [OneTimeSetUp]
    public void StartCluster()
    {
        bool installed = new[] { "/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/sbin/munged", "/usr/bin/sbatch" }.All(File.Exists);
        if (!installed)
        {
            const string why = "Slurm is not installed (apt-get install slurmctld slurmd slurm-client munge; .ci/run installs it)";
            if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(why);
            Assert.Ignore(why);
        }
        clusterDir = Directory.CreateTempSubdirectory("shiftbench-slurm-").FullName;
        var (code, output) = Tool("bash", null, Script, "start", clusterDir);
        Assert.That(code, Is.EqualTo(0), "local Slurm did not start: " + output);
        slurmConf = Regex.Match(output, "SLURM_CONF=(\\S+)").Groups[1].Value;
    }

    [OneTimeTearDown]
    public void StopCluster()
    {
        if (clusterDir is null) return;
        Tool("bash", null, Script, "stop", clusterDir);
        try { Directory.Delete(clusterDir, recursive: true); } catch (IOException) { }
    }

    Dictionary<string, string?> Env => new() { ["SLURM_CONF"] = slurmConf };

    (int Code, string Output) Slurm(string tool, params string[] args) => Tool(tool, slurmConf, args);

    internal static string WriteSpec(string dir, string name, string outDir)
    {
        string path = Path.Combine(dir, name);
        File.WriteAllText(path, $"out: {outDir}\n" + TwoCells);
        return path;
    }

    /// <summary>Every CSV and .npy of the unsharded sweep's run folders equals the merged one's, byte for byte.</summary>
    static void AssertSameRunFiles(string expectedOut, string actualOut)
    {
        var files = Directory.EnumerateFiles(expectedOut, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".csv") || f.EndsWith(".npy")).Select(f => Path.GetRelativePath(expectedOut, f)).Order().ToList();
        Assert.That(files.Count(f => f.EndsWith("cos-fc7-c.csv")), Is.EqualTo(2), "both cells ran locally");
        foreach (var file in files)
        {
            string actual = Path.Combine(actualOut, file);
            Assert.That(File.Exists(actual), file + " was merged");
            Assert.That(File.ReadAllBytes(actual), Is.EqualTo(File.ReadAllBytes(Path.Combine(expectedOut, file))), file);
        }
    }

    string LocalSweep(string dir)
    {
        string outDir = Path.Combine(dir, "local");
        var (code, stdout, stderr) = TestCli.Run("sweep", WriteSpec(dir, "local.yaml", outDir));
        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        return outDir;
    }

    [Test]
    public void ATwoCellSweepInTwoShardsOnSlurmEqualsTheLocalSweep()
    {
        using var dir = TestPaths.NewTempDir();
        string expected = LocalSweep(dir);
        string outDir = Path.Combine(dir, "slurm-out");
        string spec = WriteSpec(dir, "sweep.yaml", outDir);

        var (code, stdout, stderr) = TestCli.RunProcessWith(Env, "sweep", spec, "--slurm", "--shards", "2", "--submit", "--wait");

        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        Assert.That(stdout, Does.Match("array job \\d+: 4 tasks; merge job \\d+ \\(afterok\\)"));
        AssertSameRunFiles(expected, outDir);
        Assert.That(File.ReadAllLines(Path.Combine(outDir, "sweep-summary.csv")), Has.Length.EqualTo(1 + 2 * 2), "summary: 2 runs x (fc7, class)");
        var status = TestCli.Run("sweep", spec, "--status");
        Assert.That(status.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.All.StartWith("complete"));
    }

    [Test]
    public void AFailedTaskFailsTheWaitNamingItsCellAndShard()
    {
        using var dir = TestPaths.NewTempDir();
        string spec = Path.Combine(dir, "sweep.yaml");
        File.WriteAllText(spec, $"out: {Path.Combine(dir, "out")}\n" + TwoCells.Replace("variants: [torchvision, antialiased]", "variants: [torchvision]")
            .Replace("datasets: [berry]", "datasets: [berry, no-such-dataset]"));

        var (code, stdout, stderr) = TestCli.RunProcessWith(Env, "sweep", spec, "--slurm", "--submit", "--wait");

        Assert.That(code, Is.EqualTo(1), stdout + stderr);
        string error = stderr.Trim().Split('\n')[^1];
        Assert.That(error, Does.StartWith("error: 2 job(s) did not complete: task 1 (alexnet/torchvision/no-such-dataset/stride-62 shard 0/1) FAILED"));
        Assert.That(error, Does.Contain("CANCELLED").Or.Contain("DependencyNeverSatisfied").Or.Contain("FAILED"), "the merge job never ran");
        Assert.That(File.Exists(Path.Combine(dir, "out", "berry", "alexnet", "torchvision", "cos-fc7-c.csv")), Is.False, "the good cell is left to merge");
        Assert.That(TestCli.Run("sweep", spec, "--status").Stdout, Does.Contain("shards 1/1 complete, to merge"));
        // A shard past its last batch but not sealed (no manifest: killed before it) is not complete: merge would refuse it.
        File.Delete(Path.Combine(dir, "out", "berry", "alexnet", "torchvision", ".partial", "shard-0-of-1", Runs.ShardManifest.FileName));
        Assert.That(TestCli.Run("sweep", spec, "--status").Stdout, Does.Contain("shards 0/1 complete").And.Not.Contain("to merge"));
    }

    [Test]
    public void ACancelledTaskIsReportedAndResubmissionRunsOnlyWhatIsMissing()
    {
        using var dir = TestPaths.NewTempDir();
        string expected = LocalSweep(dir);
        string outDir = Path.Combine(dir, "slurm-out");
        string spec = WriteSpec(dir, "sweep.yaml", outDir);

        // Hold the partition so the cancel surely lands before task 1 runs.
        Assert.That(Slurm("scontrol", "update", "PartitionName=debug", "State=DOWN").Code, Is.EqualTo(0));
        SlurmSubmission submission;
        try
        {
            var (code, stdout, stderr) = TestCli.RunProcessWith(Env, "sweep", spec, "--slurm", "--shards", "2", "--submit");
            Assert.That(code, Is.EqualTo(0), stdout + stderr);
            var ids = Regex.Match(stdout, "array job (\\d+): 4 tasks; merge job (\\d+)");
            Assert.That(ids.Success, stdout);
            submission = new SlurmSubmission(ids.Groups[1].Value, ids.Groups[2].Value,
                SlurmSweep.Tasks(SweepSpec.Load(spec), 2));
            Assert.That(Slurm("scancel", $"{submission.ArrayJobId}_1").Code, Is.EqualTo(0));
        }
        finally
        {
            Slurm("scontrol", "update", "PartitionName=debug", "State=UP");
        }

        Environment.SetEnvironmentVariable("SLURM_CONF", slurmConf);
        IReadOnlyList<(string Job, string State)> failed;
        try { failed = SlurmSweep.Wait(submission, TimeSpan.FromSeconds(1)); }
        finally { Environment.SetEnvironmentVariable("SLURM_CONF", null); }
        Assert.That(failed.Select(f => f.Job), Does.Contain($"{submission.ArrayJobId}_1"));
        Assert.That(failed.Single(f => f.Job == $"{submission.ArrayJobId}_1").State, Is.EqualTo("CANCELLED"));
        Assert.That(failed.Any(f => f.Job == submission.MergeJobId), "the merge job never ran: its dependency failed");

        var status = TestCli.Run("sweep", spec, "--status").Stdout;
        Assert.That(status, Does.Contain("shards 1/2 complete").And.Contain("alexnet/torchvision/berry/stride-62"));
        Assert.That(status, Does.Contain("shards 2/2 complete, to merge").And.Contain("alexnet/antialiased/berry/stride-62"));

        var again = TestCli.RunProcessWith(Env, "sweep", spec, "--slurm", "--shards", "2", "--submit", "--wait");
        Assert.That(again.Code, Is.EqualTo(0), again.Stdout + again.Stderr);
        Assert.That(again.Stdout, Does.Match("array job \\d+: 1 tasks"), "only the cancelled shard runs again");
        AssertSameRunFiles(expected, outDir);
    }
}

/// <summary>The batch scripts `sweep --slurm` prints (no cluster needed).</summary>
[Category(TestTier.Fast)]
public class SlurmScriptTests
{
    [Test]
    public void ScriptsCarryTheSlurmOptionsAndOneTaskPerCellAndShard()
    {
        using var dir = TestPaths.NewTempDir();
        string spec = SlurmTests.WriteSpec(dir, "sweep.yaml", Path.Combine(dir, "out"));
        var (code, stdout, stderr) = TestCli.RunProcess("sweep", spec, "--slurm", "--shards", "3");
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("#SBATCH --array=0-5\n").And.Contain("#SBATCH --time=00:10:00\n").And.Contain("#SBATCH --cpus-per-task=1\n")
            .And.Contain("#SBATCH --mem=2G\n").And.Contain("#SBATCH --nice=0\n").And.Contain("--task \"$SLURM_ARRAY_TASK_ID\" --shards 3")
            .And.Contain("--merge --shards 3"));
        Assert.That(stdout, Does.Contain("#   task 4: alexnet/antialiased/berry/stride-62 shard 1/3"));
        Assert.That(Directory.Exists(Path.Combine(dir, "out", "berry")), Is.False, "printing submits and runs nothing");
        Assert.That(SlurmSweep.ArrayRanges([0, 1, 2, 5, 7, 8]), Is.EqualTo("0-2,5,7-8"));
    }

}
