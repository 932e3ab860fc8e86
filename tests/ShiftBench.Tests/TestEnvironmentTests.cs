namespace ShiftBench.Tests;

/// <summary>The caller's SHIFTBENCH_* variables reach neither the tests nor the processes they start.</summary>
[NonParallelizable]
[Category(TestTier.Fast)]
public class TestEnvironmentTests
{
    [Test]
    public void TheCliGetsOnlyTheVariablesATestSets()
    {
        Environment.SetEnvironmentVariable("SHIFTBENCH_WEIGHTS", "/caller/weights");
        try
        {
            var info = TestCli.Info(new Dictionary<string, string?> { ["SHIFTBENCH_MIRROR"] = "http://127.0.0.1:1/" }, "models");
            var names = info.Environment.Keys.Where(k => k.StartsWith(TestEnvironment.Prefix, StringComparison.Ordinal));
            Assert.That(names, Is.EquivalentTo(new[] { "SHIFTBENCH_DATA", "SHIFTBENCH_OFFLINE", "SHIFTBENCH_MIRROR" }));
            Assert.That(info.Environment["SHIFTBENCH_DATA"], Is.EqualTo(TestPaths.DataDir));
        }
        finally
        {
            Environment.SetEnvironmentVariable("SHIFTBENCH_WEIGHTS", null);
        }
    }

    [Test]
    public void TheRunStartsWithoutTheCallersVariablesButTheImagesFolder()
    {
        // ./test.sh sets SHIFTBENCH_DATA; CallerEnvironmentRemoved removed the rest before the first test.
        Assert.That(TestEnvironment.Current().Keys, Is.SubsetOf(new[] { "SHIFTBENCH_DATA" }));
    }
}
