using System.CommandLine;

namespace ShiftBench.Cli.Commands;

/// <summary>Every sub-command, one file each; add new ones here.</summary>
public static class CommandCatalog
{
    public static IEnumerable<Command> All() =>
    [
        ModelsCommand.Create(),
        FetchCommand.Create(),
    ];
}
