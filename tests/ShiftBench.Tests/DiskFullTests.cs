using System.Diagnostics;
using NUnit.Framework;

namespace ShiftBench.Tests;

/// <summary>
/// A real full disk: --out on a 1 MiB tmpfs. The run stops with one line and exit 2, is not marked
/// complete, and --resume finishes it once there is room (the tmpfs remounted larger).
/// </summary>
public class DiskFullTests
{
    static int Mount(params string[] args)
    {
        var info = new ProcessStartInfo("mount") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        try
        {
            using var process = Process.Start(info)!;
            process.WaitForExit();
            return process.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return -1; // no mount program
        }
    }

    [Test]
    public void FullDiskIsOneLineExit2AndResumeFinishesTheRun()
    {
        string mountPoint = Path.Combine(Path.GetTempPath(), "shiftbench-full-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(mountPoint);
        try
        {
            if (Mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", mountPoint) != 0)
                Assert.Ignore("a small tmpfs cannot be mounted here (needs root and mount rights), so a full disk cannot be made");
            try
            {
                string outDir = Path.Combine(mountPoint, "out");
                string[] run = ["run", "--model", "alexnet", "--variant", "torchvision", "--weights", "deterministic",
                    "--dataset", "plane", "--stride", "16", "--offline", "--out", outDir];
                var (code, stdout, stderr) = TestCli.RunProcess(run);
                Assert.That(code, Is.EqualTo(2), stderr + stdout);
                var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                Assert.That(lines, Has.Length.EqualTo(1), stderr);
                Assert.That(lines[0], Does.StartWith("error: No space left on device").And.Contain(outDir).And.Contain("--resume"));
                string runDir = Path.Combine(outDir, "plane", "alexnet", "torchvision");
                Assert.That(Output.RunLayout.IsComplete(runDir), Is.False, "a run cut short by a full disk is not complete");

                Assert.That(Mount("-o", "remount,size=256m", mountPoint), Is.EqualTo(0), "remount with room");
                var resumed = TestCli.RunProcess([.. run, "--resume"]);
                Assert.That(resumed.Code, Is.EqualTo(0), resumed.Stderr);
                Assert.That(Output.RunLayout.IsComplete(runDir), Is.True);
            }
            finally
            {
                var umount = Process.Start("umount", mountPoint);
                umount.WaitForExit();
            }
        }
        finally
        {
            if (Directory.Exists(mountPoint) && !Directory.EnumerateFileSystemEntries(mountPoint).Any()) Directory.Delete(mountPoint);
        }
    }
}
