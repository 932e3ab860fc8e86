using System.Diagnostics;

namespace ShiftBench.Tests;

/// <summary>
/// Runs the built CLI (shiftbench.dll) as a real process: CI mode, study data, never online, and none of the caller's
/// other SHIFTBENCH_* variables (a test passes the ones it wants in <c>environment</c>).
/// </summary>
public static class TestCli
{
    public static Process Start(params string[] args) => StartWith(null, args);

    /// <summary>Starts the CLI with some variables changed (null removes one), e.g. SHIFTBENCH_OFFLINE for a local server.</summary>
    public static Process StartWith(IReadOnlyDictionary<string, string?>? environment, params string[] args) => Process.Start(Info(environment, args))!;

    /// <summary>How <see cref="StartWith"/> starts the CLI.</summary>
    public static ProcessStartInfo Info(IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false }.Isolate();
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "shiftbench.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["SHIFTBENCH_DATA"] = TestPaths.DataDir;
        info.Environment["CI"] = "true";
        info.Environment["SHIFTBENCH_OFFLINE"] = "1"; // tests never reach out to the published URLs
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
            if (value is null) info.Environment.Remove(name); else info.Environment[name] = value;
        return info;
    }

    /// <summary>Space-separated arguments (no argument holds a space).</summary>
    public static Process Start(string arguments) => Start(arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries));

    public static (int Code, string Stdout, string Stderr) Run(params string[] args) => RunWith(null, args);

    public static (int Code, string Stdout, string Stderr) RunWith(IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        using var cli = StartWith(environment, args);
        var stderr = cli.StandardError.ReadToEndAsync();
        string stdout = cli.StandardOutput.ReadToEnd();
        cli.WaitForExit();
        return (cli.ExitCode, stdout, stderr.Result);
    }
}
