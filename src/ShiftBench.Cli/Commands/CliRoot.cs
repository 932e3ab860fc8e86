using System.CommandLine;

namespace ShiftBench.Cli.Commands;

/// <summary>The whole command tree, built in one place for Program.cs and for docs/cli.md (CliReference).</summary>
public static class CliRoot
{
    public static RootCommand Create()
    {
        var root = new RootCommand("ShiftBench: measure, picture and compare how shift-invariant a CNN is.");
        foreach (var command in CommandCatalog.All())
            root.Subcommands.Add(command);
        root.Subcommands.Add(CliReference.Command());
        return root;
    }
}
