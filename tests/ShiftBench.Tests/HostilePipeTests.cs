using System.Diagnostics;

namespace ShiftBench.Tests;

/// <summary>
/// Issue #22's "same class of hole in every other input": a named pipe (FIFO) given where a file is read would block
/// the command forever in open(), before any check could speak. Every input the user names (dataset config, sweep
/// file, source image, weight file, ONNX model) is refused in one line, exit 2, through the real CLI process; a
/// process still running after the time limit is killed and the test fails (a hang is the bug).
/// </summary>
[TestFixture]
public class HostilePipeTests
{
    static readonly string[] Run = ["run", "--model", "alexnet", "--variant", "torchvision", "--offline", "--stride", "250"];
    string scratch = "";

    [SetUp]
    public void NewFolder()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("named pipes are tested on Linux, where ShiftBench checks them");
        scratch = Path.Combine(Path.GetTempPath(), "shiftbench-pipe-tests", Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(scratch);
    }

    [TearDown]
    public void Clean() { if (scratch.Length > 0 && Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true); }

    string Fifo(string name)
    {
        string path = Path.Combine(scratch, name);
        using var mkfifo = Process.Start("mkfifo", [path]);
        mkfifo.WaitForExit();
        Assert.That(mkfifo.ExitCode, Is.Zero, "mkfifo failed");
        return path;
    }

    static (int Code, string Stderr) RunBounded(params string[] args)
    {
        using var cli = TestCli.Start(args);
        var stderr = cli.StandardError.ReadToEndAsync();
        var stdout = cli.StandardOutput.ReadToEndAsync();
        if (!cli.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            cli.Kill(entireProcessTree: true);
            Assert.Fail($"shiftbench {string.Join(' ', args)} still ran after 2 minutes: it hangs on the pipe");
        }
        stdout.Wait();
        return (cli.ExitCode, stderr.Result);
    }

    static void AssertRefused((int Code, string Stderr) result, string path, string what)
    {
        Assert.That(result.Code, Is.EqualTo(2), result.Stderr);
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), result.Stderr);
        Assert.That(lines[0], Does.StartWith($"error: {what} {path} is not a regular file"));
    }

    [Test]
    public void DatasetConfigPipeIsRefused()
    {
        string fifo = Fifo("config.yaml");
        AssertRefused(RunBounded("dataset", "show", fifo), fifo, "dataset config");
    }

    [Test]
    public void SweepFilePipeIsRefused()
    {
        string fifo = Fifo("sweep.yaml");
        AssertRefused(RunBounded("sweep", fifo, "--dry-run"), fifo, "sweep file");
    }

    [Test]
    public void WeightFilePipeIsRefused()
    {
        string fifo = Fifo("weights.pth");
        AssertRefused(RunBounded([.. Run, "--weights", fifo, "--dataset", "berry", "--out", Path.Combine(scratch, "out")]), fifo, "weight file");
    }

    [Test]
    public void OnnxModelPipeIsRefused()
    {
        string fifo = Fifo("model.onnx");
        AssertRefused(RunBounded("run", "--model", fifo, "--dataset", "berry", "--stride", "250", "--out", Path.Combine(scratch, "out")), fifo, "ONNX model");
    }

    [Test]
    public void SourceImagePipeIsRefused()
    {
        string fifo = Fifo("berry.png");
        var lines = File.ReadAllLines(Path.Combine(TestPaths.RepoRoot, "configs", "berry.yaml")).ToList();
        int source = lines.FindIndex(l => l.TrimStart().StartsWith("source:", StringComparison.Ordinal));
        Assert.That(source, Is.GreaterThanOrEqualTo(0), "berry.yaml has no source: line");
        lines[source] = lines[source][..lines[source].IndexOf("source:", StringComparison.Ordinal)] + "source: " + fifo;
        string config = Path.Combine(scratch, "berry-pipe.yaml");
        File.WriteAllLines(config, lines);
        AssertRefused(RunBounded([.. Run, "--weights", "deterministic", "--dataset", config, "--out", Path.Combine(scratch, "out")]), fifo, "source image");
    }
}
