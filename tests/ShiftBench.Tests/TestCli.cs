using System.Collections;
using System.Diagnostics;
using ShiftBench.Cli;
using ShiftBench.Runs;

namespace ShiftBench.Tests;

/// <summary>
/// Runs the CLI as the tests' user: CI mode, study data, never online, and none of the caller's other SHIFTBENCH_*
/// variables (a test passes the ones it wants in <c>environment</c>). <see cref="Run"/> and <see cref="RunWith"/> run
/// the command in this process (CliApp.Run: same exit code and text, no process start or TorchSharp load per command);
/// <see cref="RunProcess"/>, <see cref="Start"/> and <see cref="Info"/> start the built shiftbench.dll as a real process,
/// for what needs one: killing or interrupting it, resuming after a kill, locks held by another process, test hooks
/// (SHIFTBENCH_TEST_HOOK is read once per process), Slurm jobs (which start the CLI themselves), a tmpfs to unmount.
/// </summary>
public static class TestCli
{
    /// <summary>The variables a CLI run sees: this process's without SHIFTBENCH_*, then CI mode, data, offline, then <paramref name="changes"/> (null removes one).</summary>
    public static Dictionary<string, string?> Variables(IReadOnlyDictionary<string, string?>? changes)
    {
        var variables = Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
            .Where(e => !((string)e.Key).StartsWith(TestEnvironment.Prefix, StringComparison.Ordinal))
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value);
        variables["SHIFTBENCH_DATA"] = TestPaths.DataDir;
        variables["CI"] = "true";
        variables["SHIFTBENCH_OFFLINE"] = "1"; // tests never reach out to the published URLs
        foreach (var (name, value) in changes ?? new Dictionary<string, string?>())
            if (value is null) variables.Remove(name); else variables[name] = value;
        return variables;
    }

    /// <summary>Runs one command in this process.</summary>
    public static (int Code, string Stdout, string Stderr) Run(params string[] args) => RunWith(null, args);

    /// <summary>Runs one command in this process with some variables changed (null removes one), e.g. SHIFTBENCH_OFFLINE for a local server.</summary>
    public static (int Code, string Stdout, string Stderr) RunWith(IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        if (environment?.ContainsKey(JobTestHook.Variable) == true)
            throw new ArgumentException($"{JobTestHook.Variable} is read once per process: use RunProcessWith", nameof(environment));
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr, Variables(environment));
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs one command as a real process, to its exit.</summary>
    public static (int Code, string Stdout, string Stderr) RunProcess(params string[] args) => RunProcessWith(null, args);

    public static (int Code, string Stdout, string Stderr) RunProcessWith(IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        using var cli = StartWith(environment, args);
        var stderr = cli.StandardError.ReadToEndAsync();
        string stdout = cli.StandardOutput.ReadToEnd();
        cli.WaitForExit();
        return (cli.ExitCode, stdout, stderr.Result);
    }

    public static Process Start(params string[] args) => StartWith(null, args);

    /// <summary>Space-separated arguments (no argument holds a space).</summary>
    public static Process Start(string arguments) => Start(arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries));

    /// <summary>Starts the CLI as a process with some variables changed (null removes one).</summary>
    public static Process StartWith(IReadOnlyDictionary<string, string?>? environment, params string[] args) => Process.Start(Info(environment, args))!;

    /// <summary>How <see cref="StartWith"/> starts the CLI.</summary>
    public static ProcessStartInfo Info(IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "shiftbench.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment.Clear();
        foreach (var (name, value) in Variables(environment)) info.Environment[name] = value;
        return info;
    }
}
