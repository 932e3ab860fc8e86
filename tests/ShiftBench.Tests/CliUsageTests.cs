using NUnit.Framework;

namespace ShiftBench.Tests;

/// <summary>Command-line mistakes: one line naming the option and a pointer to --help, exit 2, no help dump or .NET type names.</summary>
public class CliUsageTests
{
    static void AssertUsageError((int Code, string Stdout, string Stderr) result, string names, string hint)
    {
        Assert.That(result.Code, Is.EqualTo(2), result.Stderr);
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), result.Stderr);
        Assert.That(lines[0], Does.StartWith("error: ").And.Contain(names).And.Contain(hint));
        Assert.That(result.Stderr + result.Stdout, Does.Not.Contain("System.").And.Not.Contain("Description:"));
    }

    [Test]
    public void UnknownOptionIsOneLineExit2() =>
        AssertUsageError(TestCli.Run("run", "--model", "alexnet", "--dataset", "plane", "--bogus"), "'--bogus'", "see `shiftbench run --help`");

    [Test]
    public void UnknownCommandIsOneLineExit2() =>
        AssertUsageError(TestCli.Run("frob"), "'frob'", "see `shiftbench --help`");

    [Test]
    public void UnparseableWholeNumberNamesTheOption() =>
        AssertUsageError(TestCli.Run("run", "--model", "alexnet", "--dataset", "plane", "--stride", "abc"), "--stride 'abc': give a whole number", "see `shiftbench run --help`");

    [Test]
    public void UnparseableNumberNamesTheOption() =>
        AssertUsageError(TestCli.Run("run", "--model", "alexnet", "--dataset", "plane", "--vmin", "low"), "--vmin 'low': give a number", "--help");

    [Test]
    public void MissingRequiredOptionIsOneLineExit2() =>
        AssertUsageError(TestCli.Run("run", "--dataset", "plane"), "--model", "see `shiftbench run --help`");

    [Test]
    public void HelpStillPrintsTheFullHelp()
    {
        var (code, stdout, _) = TestCli.Run("run", "--help");
        Assert.That(code, Is.EqualTo(0));
        Assert.That(stdout, Does.Contain("Description:").And.Contain("--stride"));
    }
}
