using System.CommandLine;
using System.CommandLine.Parsing;

namespace ShiftBench.Cli.Commands;

/// <summary>
/// Command-line mistakes (unknown options, missing or unparseable values) as every other usage error:
/// one line naming the option and the fix, a pointer to --help, exit code 2. --help itself is untouched.
/// </summary>
public static class ParseErrors
{
    public const int ExitCode = 2;

    /// <summary>True when the parse failed (and help was not asked for); the caller then exits with <see cref="Report"/>.</summary>
    public static bool Failed(ParseResult parse) =>
        parse.Errors.Count > 0 && parse.Action is System.CommandLine.Invocation.ParseErrorAction;

    /// <summary>Writes the first error as one line and a hint; returns the exit code.</summary>
    public static int Report(ParseResult parse, TextWriter error)
    {
        string command = string.Join(' ', CommandPath(parse.CommandResult));
        // A stray word explains the other errors (a misspelt command also leaves "required command" behind).
        string message = parse.UnmatchedTokens.Count > 0
            ? $"unknown option, command or argument '{parse.UnmatchedTokens[0]}'"
            : Describe(parse.Errors[0]);
        error.WriteLine($"error: {message}; see `{command} --help`");
        return ExitCode;
    }

    static string Describe(ParseError error)
    {
        // An option whose value did not convert: say what kind of value it takes instead of .NET's type name.
        if (error.SymbolResult is OptionResult { Option: var option } result && result.Tokens.Count > 0
            && ValueKind(option.ValueType) is { } kind)
            return $"{option.Name} '{string.Join(' ', result.Tokens.Select(t => t.Value))}': give {kind}";
        return error.Message.TrimEnd('.');
    }

    static string? ValueKind(Type type) => (Nullable.GetUnderlyingType(type) ?? type) switch
    {
        var t when t == typeof(int) || t == typeof(long) => "a whole number, e.g. 4",
        var t when t == typeof(double) || t == typeof(float) => "a number, e.g. 0.5",
        _ => null,
    };

    static IEnumerable<string> CommandPath(CommandResult? result)
    {
        var names = new Stack<string>();
        for (var r = result; r is not null; r = r.Parent as CommandResult)
            names.Push(r.Parent is null ? "shiftbench" : r.Command.Name);
        return names;
    }
}
