using System.CommandLine;

namespace ShiftBench.Cli.Commands;

/// <summary>Every sub-command, one file each; add new ones here.</summary>
public static class CommandCatalog
{
    public static IEnumerable<Command> All() =>
    [
        ModelsCommand.Create(),
        RunCommand.Create(),
        DatasetCommand.Create(),
        BenchCommand.Create(),
        ReportCommand.Create(),
        FigureCommand.Create(),
        FetchCommand.Create(),
        CompareCommand.Create(),
        SweepCommand.Create(),
        ReproduceCommand.Create(),
        MergeCommand.Create(),
        ConsistencyCommand.Create(),
    ];
}
