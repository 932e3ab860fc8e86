using System.Collections;
using System.Diagnostics;

namespace ShiftBench.Tests;

/// <summary>
/// Keeps the caller's SHIFTBENCH_* variables (weights folder, mirror, offline switch...) out of the tests: processes
/// the tests start get none of them unless a test sets one on purpose.
/// </summary>
public static class TestEnvironment
{
    public const string Prefix = "SHIFTBENCH_";

    /// <summary>Removes every SHIFTBENCH_* variable from what the process will inherit; the caller then sets the ones it means.</summary>
    public static ProcessStartInfo Isolate(this ProcessStartInfo info)
    {
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith(Prefix, StringComparison.Ordinal)).ToList())
            info.Environment.Remove(name);
        return info;
    }

    /// <summary>The SHIFTBENCH_* variables set in this process, by name.</summary>
    public static Dictionary<string, string> Current() =>
        Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
            .Where(e => e.Key is string k && k.StartsWith(Prefix, StringComparison.Ordinal))
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "");
}

/// <summary>
/// Code the tests call in this process reads the environment too (AssetPaths, FetchOptions): the caller's SHIFTBENCH_*
/// variables are removed for the whole run, except SHIFTBENCH_DATA, which ./test.sh sets to the study's images
/// (TestPaths.DataDir), and put back at its end.
/// </summary>
[SetUpFixture]
public class CallerEnvironmentRemoved
{
    Dictionary<string, string> removed = [];

    [OneTimeSetUp]
    public void Remove()
    {
        removed = TestEnvironment.Current();
        removed.Remove("SHIFTBENCH_DATA");
        foreach (var name in removed.Keys) Environment.SetEnvironmentVariable(name, null);
    }

    [OneTimeTearDown]
    public void Restore()
    {
        foreach (var (name, value) in removed) Environment.SetEnvironmentVariable(name, value);
    }
}
