using System.CommandLine;
using ShiftBench.Assets;
using ShiftBench.Models;

namespace ShiftBench.Cli.Commands;

public static class ModelsCommand
{
    public static Command Create()
    {
        var weightsDir = new Option<string?>("--weights-dir") { Description = "Folder of published weight files (default $SHIFTBENCH_WEIGHTS, else weights/)" };
        var command = new Command("models", "List the model zoo: variants, filter size, layers, published weight files and whether they are present.") { weightsDir };
        command.SetAction(parse => CliRunner.Guard(() =>
        {
            var paths = AssetPaths.Resolve(parse.GetValue(weightsDir));
            Console.WriteLine($"weights folder: {paths.WeightsDir}");
            foreach (var e in ModelRegistry.All)
            {
                string state = File.Exists(Path.Combine(paths.WeightsDir, e.FileName)) ? "present" : "missing";
                Console.WriteLine($"{e.Model,-13} {e.VariantName,-12} filter {e.FilterSize}  layers {string.Join(",", e.Layers),-36} {e.FileName,-32} {state}");
            }
            return 0;
        }));
        return command;
    }
}
