namespace ShiftBench.Tests;

/// <summary>
/// TestCli.Run runs commands inside the test process (CliApp.Run); these prove it stands in for the real process:
/// the same exit code, stdout and stderr for usage errors, listings, a run's summary line, compare's table and a
/// refused input, variables taken from the call and not from this process, and Console and Spectre's console put back.
/// One difference is known: --help names the program after the process (System.CommandLine's RootCommand), so inside the
/// test host its usage line reads `testhost run [options]`; a test of that line runs the process.
/// </summary>
[NonParallelizable]
public class InProcessCliTests
{
    static void AssertSame(params string[] args)
    {
        var inside = TestCli.Run(args);
        var process = TestCli.RunProcess(args);
        string command = string.Join(' ', args);
        Assert.That(inside.Code, Is.EqualTo(process.Code), $"exit code of {command}");
        Assert.That(inside.Stdout, Is.EqualTo(process.Stdout), $"stdout of {command}");
        Assert.That(inside.Stderr, Is.EqualTo(process.Stderr), $"stderr of {command}");
    }

    [Test, Category(TestTier.Fast)]
    public void ExitCodesAndTextAreThoseOfTheProcess()
    {
        using var dir = TestPaths.NewTempDir();
        FeatureRunFolders.Write(dir, "resnet50", "torchvision", rows: 6, stride: 16, seed: 11);
        FeatureRunFolders.Write(dir, "resnet50", "antialiased", rows: 6, stride: 16, seed: 12);
        AssertSame("run", "--model", "alexnet", "--dataset", "plane", "--bogus");
        AssertSame("frob");
        var help = TestCli.Run("run", "--help");
        var processHelp = TestCli.RunProcess("run", "--help");
        Assert.That(processHelp.Stdout, Does.Contain("Usage:\n  shiftbench run [options]"));
        Assert.That(help.Stdout, Is.EqualTo(processHelp.Stdout.Replace("Usage:\n  shiftbench run", "Usage:\n  testhost run")), "help differs in the program's name only");
        Assert.That((help.Code, help.Stderr), Is.EqualTo((processHelp.Code, processHelp.Stderr)));
        AssertSame("models");
        AssertSame("models", "--layers", "resnet18");
        AssertSame("dataset", "show", "--dataset", "berry");
        AssertSame("compare", dir, "--model", "resnet50", "--dataset", "berry");
        AssertSame("compare", dir, "--model", "resnet50", "--dataset", "berry", "--markdown");
        AssertSame("compare", dir, "--model", "vgg16", "--dataset", "berry");
        AssertSame("run", "--model", "alexnet", "--variant", "torchvision", "--dataset", "/dev/zero", "--out", Path.Combine(dir, "refused"));
    }

    [Test]
    public void ARunPrintsTheSameSummaryAndWritesTheSameGrids()
    {
        using var dir = TestPaths.NewTempDir();
        string[] Run(string outDir) => ["run", "--model", "alexnet", "--variant", "torchvision", "--weights", "deterministic",
            "--dataset", "berry", "--stride", "62", "--layers", "fc7,class", "--out", Path.Combine(dir, outDir)];
        var inside = TestCli.Run(Run("inside"));
        var process = TestCli.RunProcess(Run("process"));
        Assert.That(inside.Code, Is.EqualTo(0), inside.Stderr);
        Assert.That(process.Code, Is.EqualTo(0), process.Stderr);
        // The summary line ends in the speed, which differs from run to run.
        static string WithoutSpeed(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"[0-9.]+ images/s", "N images/s");
        Assert.That(WithoutSpeed(inside.Stdout.Replace("inside", "process")), Is.EqualTo(WithoutSpeed(process.Stdout)));
        Assert.That(process.Stdout, Does.Contain(" images/s"));
        string runDir = Path.Combine("berry", "alexnet", "torchvision");
        var grids = Directory.GetFiles(Path.Combine(dir, "process", runDir), "*.csv").Select(Path.GetFileName).Order().ToList();
        Assert.That(grids, Has.Count.GreaterThan(2));
        foreach (var grid in grids)
            Assert.That(File.ReadAllText(Path.Combine(dir, "inside", runDir, grid!)), Is.EqualTo(File.ReadAllText(Path.Combine(dir, "process", runDir, grid!))), grid);
        var command = Output.RunRecord.Read(Path.Combine(dir, "inside", runDir))!.Command;
        Assert.That(command, Is.EqualTo("shiftbench " + string.Join(' ', Run("inside"))), "run.json names the command run, not the test host");
    }

    [Test, Category(TestTier.Fast)]
    public void VariablesComeFromTheCallNotFromThisProcess()
    {
        Environment.SetEnvironmentVariable("SHIFTBENCH_WEIGHTS", "/caller/weights");
        try
        {
            var plain = TestCli.Run("models");
            Assert.That(plain.Stdout, Does.Not.Contain("/caller/weights"));
            var given = TestCli.RunWith(new Dictionary<string, string?> { ["SHIFTBENCH_WEIGHTS"] = "/given/weights" }, "models");
            Assert.That(given.Stdout, Does.Contain("weights folder: /given/weights"));
            Assert.That(Environment.GetEnvironmentVariable("SHIFTBENCH_WEIGHTS"), Is.EqualTo("/caller/weights"), "the process's variable is left alone");
        }
        finally
        {
            Environment.SetEnvironmentVariable("SHIFTBENCH_WEIGHTS", null);
        }
    }

    [Test, Category(TestTier.Fast)]
    public void ConsoleIsPutBackAfterARun()
    {
        var (output, error, ansi) = (Console.Out, Console.Error, Spectre.Console.AnsiConsole.Console);
        var refused = TestCli.Run("frob");
        Assert.That(refused.Code, Is.EqualTo(2));
        Assert.That(Console.Out, Is.SameAs(output));
        Assert.That(Console.Error, Is.SameAs(error));
        Assert.That(Spectre.Console.AnsiConsole.Console, Is.SameAs(ansi));
    }

    [Test, Category(TestTier.Fast)]
    public void TheTestHookNeedsARealProcess() =>
        Assert.That(() => TestCli.RunWith(new Dictionary<string, string?> { [Runs.JobTestHook.Variable] = "kill@staged" }, "models"),
            Throws.ArgumentException.With.Message.Contains("RunProcessWith"));
}
