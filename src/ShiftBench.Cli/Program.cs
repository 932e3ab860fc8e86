using System.CommandLine;
using ShiftBench.Cli.Commands;

var root = new RootCommand("ShiftBench: measure, picture and compare how shift-invariant a CNN is.");
foreach (var command in CommandCatalog.All())
    root.Subcommands.Add(command);
return await root.Parse(args).InvokeAsync();
