using System.Diagnostics;
using ShiftBench.Models;

namespace ShiftBench.Tests;

/// <summary>
/// tools/speed-table.sh --dry-run: the measurements it would make, at each network's default batch from the zoo,
/// the same for PyTorch and ShiftBench. (Its real runs take minutes and measure the machine: not a unit test.)
/// </summary>
public class SpeedTableScriptTests
{
    const string Python = "/usr/bin/python3"; // the script reads the zoo's JSON with it

    const string Bf16Cpu = "flags\t\t: fpu sse2 avx2 avx512f avx512_bf16\n", NoBf16Cpu = "flags\t\t: fpu sse2 avx2\n";

    static (int Code, string[] Lines, string Stderr) DryRun(params string[] args) => DryRunOn(Bf16Cpu, args);

    /// <summary>The script on a CPU whose /proc/cpuinfo reads as given (it decides on bf16 from the flags).</summary>
    static (int Code, string[] Lines, string Stderr) DryRunOn(string cpuinfo, params string[] args)
    {
        if (!File.Exists(Python)) Assert.Ignore($"{Python} is missing: tools/speed-table.sh needs Debian's Python");
        string cpuinfoFile = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"cpuinfo-{Guid.NewGuid():N}");
        File.WriteAllText(cpuinfoFile, cpuinfo);
        try { return Run(cpuinfoFile, args); }
        finally { File.Delete(cpuinfoFile); }
    }

    static (int Code, string[] Lines, string Stderr) Run(string cpuinfoFile, string[] args)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(TestPaths.RepoRoot, "tools", "speed-table.sh"));
        info.ArgumentList.Add("--dry-run");
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("SHIFTBENCH_", StringComparison.Ordinal)).ToList()) info.Environment.Remove(key);
        info.Environment["SHIFTBENCH_CLI"] = "dotnet " + Path.Combine(AppContext.BaseDirectory, "shiftbench.dll");
        info.Environment["SPEED_TABLE_CPUINFO"] = cpuinfoFile;
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries), stderr.Result.Trim());
    }

    static readonly string[] StudyNetworks = ["alexnet", "vgg16", "resnet50", "mobilenet_v2"];

    [Test]
    public void FullRunOnABf16CpuMeasuresTheFourNetworksAtTheirZooBatchBothPrecisions()
    {
        var (code, lines, stderr) = DryRun("--threads", "2");
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(lines, Has.Length.EqualTo(4));
        foreach (var (model, line) in StudyNetworks.Zip(lines))
        {
            int batch = ModelRegistry.FindArchitecture(model).DefaultBatchSize;
            Assert.That(line, Does.StartWith($"{model}: batch {batch}, 128 images, 2 threads: "));
            Assert.That(line, Does.Contain($"tools/speed-pytorch.py {model} {batch} 128 2 fp32;"));
            Assert.That(line, Does.EndWith($"bench --model {model} --batch-size {batch} --images 128 --rounds 3 --dataset berry --precision fp32,bf16"));
        }
    }

    [TestCase(new string[0], "fp32")]
    [TestCase(new[] { "--bf16" }, "fp32,bf16")]
    public void WithoutBf16InstructionsBf16IsMeasuredOnlyOnRequest(string[] args, string precision)
    {
        var (code, lines, stderr) = DryRunOn(NoBf16Cpu, ["--models", "alexnet", .. args]);
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(lines, Has.Length.EqualTo(1));
        Assert.That(lines[0], Does.EndWith($"--precision {precision}"));
    }

    [Test]
    public void QuickRunIsOneBatchOneRoundFp32()
    {
        var (code, lines, stderr) = DryRun("--quick", "--models", "resnet50", "--threads", "1");
        Assert.That(code, Is.EqualTo(0), stderr);
        int batch = ModelRegistry.FindArchitecture("resnet50").DefaultBatchSize;
        Assert.That(lines, Is.EqualTo(new[] { $"resnet50: batch {batch}, {batch} images, 1 threads: {Python} tools/speed-pytorch.py resnet50 {batch} {batch} 1 fp32; " +
            $"shiftbench bench --model resnet50 --batch-size {batch} --images {batch} --rounds 1 --dataset berry --precision fp32" }));
    }

    [TestCase(new[] { "--models", "alexnet,alexnett" }, "'alexnett' is not a zoo network")]
    [TestCase(new[] { "--images", "0" }, "not '0'")]
    [TestCase(new[] { "--fast" }, "unknown option '--fast'")]
    public void BadOptionsStopWithOneLineAndCode2(string[] args, string message)
    {
        var (code, lines, stderr) = DryRun(args);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(lines, Is.Empty, "nothing listed before the error");
        Assert.That(stderr, Does.StartWith("error: ").And.Contain(message).And.Not.Contain('\n'));
    }
}
