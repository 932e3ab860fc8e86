using System.CommandLine;
using ShiftBench.Cli.Commands;
using Spectre.Console;

namespace ShiftBench.Cli;

/// <summary>
/// The CLI's entry: <see cref="RunProcessAsync"/> for the `shiftbench` process (Program.cs); <see cref="Run"/> runs a
/// command inside the caller's process, with its own output writers and variables (the tests, which would otherwise pay
/// a process start and TorchSharp's native load per command). Both parse and invoke the same way, so exit codes and
/// text are the same.
/// </summary>
public static class CliApp
{
    // Built once: the commands share static options, which would gather one parent per tree built.
    static readonly Lazy<RootCommand> Root = new(CliRoot.Create);
    static readonly AsyncLocal<string[]?> Arguments = new();

    /// <summary>The command as given, for run.json: this call's arguments (<see cref="Run"/>), else the process's.</summary>
    public static string CommandLine => "shiftbench " + string.Join(' ', Arguments.Value ?? Environment.GetCommandLineArgs().Skip(1));

    /// <summary>The process's run: Ctrl-C cancels the running command, which stops after the batch in flight and says how to resume.</summary>
    public static async Task<int> RunProcessAsync(string[] args)
    {
        // Before any tensor exists: freed tensor memory stays in the process (page faults are what made runs slow here).
        NativeHeap.KeepFreedMemory();
        // A ResNet50 batch takes about a second here: wait for it rather than exiting mid-write.
        return await InvokeAsync(args, new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(60) }, Console.Error);
    }

    /// <summary>
    /// Runs one command in this process: stdout and stderr go to the writers; variables (SHIFTBENCH_*, CI...) are read
    /// from <paramref name="environment"/> only (absent = unset), not from the process. Console.Out and Console.Error are
    /// the writers until it returns, so calls must not overlap. No Ctrl-C handling: the caller's process keeps its own.
    /// </summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, IReadOnlyDictionary<string, string?> environment)
    {
        var (previousOut, previousError, previousAnsi) = (Console.Out, Console.Error, AnsiConsole.Console);
        try
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
            AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout) });
            using var variables = EnvironmentVariables.Use(name => environment.GetValueOrDefault(name));
            Arguments.Value = args;
            var invocation = new InvocationConfiguration { ProcessTerminationTimeout = null, Output = Console.Out, Error = Console.Error };
            return Task.Run(() => InvokeAsync(args, invocation, Console.Error)).GetAwaiter().GetResult();
        }
        finally
        {
            Console.Out.Flush();
            Console.Error.Flush();
            Console.SetOut(previousOut);
            Console.SetError(previousError);
            AnsiConsole.Console = previousAnsi;
            Arguments.Value = null;
        }
    }

    static async Task<int> InvokeAsync(string[] args, InvocationConfiguration invocation, TextWriter error)
    {
        var parse = Root.Value.Parse(args);
        if (ParseErrors.Failed(parse)) return ParseErrors.Report(parse, error);
        return await parse.InvokeAsync(invocation);
    }
}
