using System.Diagnostics;
using NUnit.Framework;

namespace ShiftBench.Tests;

/// <summary>
/// The malloc settings that keep freed tensor memory in the process (NativeHeap): set in this process, written the
/// same in tools/heap-env.sh (which ./shiftbench and test.sh source) and in Slurm job scripts, and adding to a
/// GLIBC_TUNABLES the user already has instead of replacing it.
/// </summary>
[TestFixture]
[Category(TestTier.Fast)]
public class NativeHeapTests
{
    [Test]
    public void MalloptAcceptsTheSettingsOnLinux()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("glibc's mallopt exists on Linux only; elsewhere nothing is set");
        Assert.That(NativeHeap.KeepFreedMemory(), Is.True, "glibc refused a mallopt setting");
    }

    [Test]
    public void TheShellScriptsAddTheSameTunablesToWhatIsThere()
    {
        string script = Path.Combine(TestPaths.RepoRoot, "tools", "heap-env.sh");
        Assert.That(File.ReadAllText(script), Does.Contain($"shiftbench_tunables=\"{NativeHeap.Tunables}\""));
        foreach (var shell in new[] { $"source '{script}'", NativeHeap.ExportLine })
        {
            Assert.That(Bash($"{shell}; echo \"$GLIBC_TUNABLES\""), Is.EqualTo(NativeHeap.Tunables));
            Assert.That(Bash($"export GLIBC_TUNABLES=glibc.malloc.tcache_count=0; {shell}; echo \"$GLIBC_TUNABLES\""),
                Is.EqualTo("glibc.malloc.tcache_count=0:" + NativeHeap.Tunables));
        }
        foreach (var launcher in new[] { "shiftbench", "test.sh" })
            Assert.That(File.ReadAllText(Path.Combine(TestPaths.RepoRoot, launcher)), Does.Contain("tools/heap-env.sh"), launcher);
    }

    [Test]
    public void SlurmJobsSetTheTunablesBeforeStarting()
    {
        using var dir = TestPaths.NewTempDir();
        string file = Path.Combine(dir, "s.yaml");
        File.WriteAllText(file, $"out: {Path.Combine(dir, "out")}\nmodels: [alexnet]\nvariants: [torchvision]\ndatasets: [berry]\nstrides: [62]\nweights: deterministic\n");
        var spec = Workflows.SweepSpec.Load(file);
        foreach (var script in new[] { Workflows.SlurmSweep.ArrayScript(spec, file, 2, Workflows.SlurmSweep.Pending(spec, 2), "shiftbench"), Workflows.SlurmSweep.MergeScript(spec, file, 2, "shiftbench") })
        {
            var lines = script.Split('\n');
            int export = Array.IndexOf(lines, NativeHeap.ExportLine), exec = Array.FindIndex(lines, l => l.StartsWith("exec "));
            Assert.That(export, Is.GreaterThan(0).And.LessThan(exec), script);
        }
    }

    static string Bash(string command)
    {
        var start = new ProcessStartInfo("bash", ["-c", command]) { RedirectStandardOutput = true }.Isolate();
        start.Environment.Remove("GLIBC_TUNABLES");
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        Assert.That(process.ExitCode, Is.Zero, command);
        return output;
    }
}
