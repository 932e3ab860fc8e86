using System.CommandLine;
using System.Globalization;
using System.Text;

namespace ShiftBench.Cli.Commands;

/// <summary>
/// docs/cli.md, rendered from the command tree itself (names, descriptions, arguments, options, defaults), so the
/// reference cannot drift from the CLI: `tools/cli-docs.sh` writes it, and CliDocsTests fails when it is stale.
/// </summary>
public static class CliReference
{
    public const string CommandName = "cli-docs";

    /// <summary>Hidden: prints docs/cli.md to stdout (tools/cli-docs.sh).</summary>
    public static Command Command()
    {
        var command = new Command(CommandName, "Print the command reference (docs/cli.md) as markdown") { Hidden = true };
        command.SetAction(p =>
        {
            Console.Out.Write(Render(p.RootCommandResult.Command));
            return 0;
        });
        return command;
    }

    public static string Render(Command root)
    {
        var md = new StringBuilder();
        md.Append("# Command reference\n\n");
        md.Append("Generated from the CLI's own command tree by `tools/cli-docs.sh`; do not edit by hand ");
        md.Append("(a test fails when this file is stale). `shiftbench COMMAND --help` prints the same in the terminal, ");
        md.Append("and every command takes `-h`/`--help`.\n\n");
        md.Append($"`shiftbench`: {Text(root.Description)}\n\n");
        foreach (var command in Visible(root.Subcommands))
            AppendIndex(md, command, "shiftbench", 0);
        md.Append('\n');
        foreach (var command in Visible(root.Subcommands))
            AppendCommand(md, command, "shiftbench");
        return md.ToString();
    }

    static IEnumerable<Command> Visible(IEnumerable<Command> commands) => commands.Where(c => !c.Hidden);

    static void AppendIndex(StringBuilder md, Command command, string parent, int depth)
    {
        string path = $"{parent} {command.Name}";
        md.Append($"{new string(' ', 2 * depth)}- [`{path}`](#{Anchor(path)}): {Text(command.Description)}\n");
        foreach (var sub in Visible(command.Subcommands))
            AppendIndex(md, sub, path, depth + 1);
    }

    static void AppendCommand(StringBuilder md, Command command, string parent)
    {
        string path = $"{parent} {command.Name}";
        md.Append($"## {path}\n\n{Text(command.Description)}\n\n");
        md.Append($"```\n{Usage(command, path)}\n```\n\n");
        var arguments = command.Arguments.Where(a => !a.Hidden).ToList();
        if (arguments.Count > 0)
        {
            md.Append("| argument | description | default |\n| --- | --- | --- |\n");
            foreach (var argument in arguments)
                md.Append($"| `{argument.Name}` | {Text(argument.Description)} | {Default(argument.HasDefaultValue, argument.GetDefaultValue)} |\n");
            md.Append('\n');
        }
        var options = command.Options.Where(o => !o.Hidden).ToList();
        if (options.Count > 0)
        {
            md.Append("| option | description | default |\n| --- | --- | --- |\n");
            foreach (var option in options)
                md.Append($"| `{OptionSyntax(option)}` | {Text(option.Description)} | {(option.Required ? "required" : Default(option.HasDefaultValue, option.GetDefaultValue))} |\n");
            md.Append('\n');
        }
        foreach (var sub in Visible(command.Subcommands))
            AppendCommand(md, sub, path);
    }

    static string Usage(Command command, string path)
    {
        var parts = new List<string> { path };
        if (command.Subcommands.Any(c => !c.Hidden)) parts.Add("COMMAND");
        parts.AddRange(command.Arguments.Where(a => !a.Hidden).Select(a => a.HasDefaultValue ? $"[{a.Name}]" : a.Name));
        if (command.Options.Any(o => !o.Hidden)) parts.Add("[options]");
        return string.Join(' ', parts);
    }

    static string OptionSyntax(Option option)
    {
        string names = string.Join(", ", new[] { option.Name }.Concat(option.Aliases.Order(StringComparer.Ordinal)));
        if (option.Arity.MaximumNumberOfValues == 0 || option.ValueType == typeof(bool)) return names;
        string value = $"<{option.HelpName ?? option.Name.TrimStart('-')}>";
        return option.Arity.MaximumNumberOfValues > 1 ? $"{names} {value}..." : $"{names} {value}";
    }

    static string Default(bool hasDefault, Func<object?> value)
    {
        if (!hasDefault) return "";
        return value() switch
        {
            null => "",
            bool b => b ? "`true`" : "",
            string s => $"`{s}`",
            System.Collections.IEnumerable items => string.Join(", ", items.Cast<object>().Select(i => $"`{Invariant(i)}`")),
            var other => $"`{Invariant(other)}`",
        };
    }

    static string Invariant(object value) => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";

    /// <summary>A description as one table cell: one line, pipes escaped.</summary>
    static string Text(string? text) =>
        string.Join(' ', (text ?? "").Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim())).Replace("|", "\\|");

    /// <summary>GitHub's heading anchor: lower case, spaces to hyphens, punctuation dropped.</summary>
    public static string Anchor(string heading) =>
        new(heading.ToLowerInvariant().Replace(' ', '-').Where(c => char.IsLetterOrDigit(c) || c is '-' or '_').ToArray());
}
