using System.CommandLine;
using ShiftBench.Models;

namespace ShiftBench.Cli.Commands;

public static class ModelsCommand
{
    public static Command Create()
    {
        var command = new Command("models", "List the model zoo: variants, layers and published weight files.");
        command.SetAction(_ => CliRunner.Guard(() =>
        {
            foreach (var e in ModelRegistry.All)
                Console.WriteLine($"{e.Model,-13} {e.VariantName,-12} layers={string.Join(",", e.Layers)}  {e.FileName}");
            return 0;
        }));
        return command;
    }
}
