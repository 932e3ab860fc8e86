using System.CommandLine;
using ShiftBench.Assets;
using ShiftBench.Models;

namespace ShiftBench.Cli.Commands;

public static class ModelsCommand
{
    public static Command Create()
    {
        var weightsDir = new Option<string?>("--weights-dir") { Description = "Folder of published weight files (default $SHIFTBENCH_WEIGHTS, else weights/)" };
        var model = new Option<string?>("--model") { Description = "Only this architecture" };
        var json = new Option<bool>("--json") { Description = "Print the whole registry as JSON (architectures, taps, stages, files)" };
        var command = new Command("models", "List the model zoo: every architecture, its variants, filter sizes, layers, weight files, URLs and whether they are present.") { weightsDir, model, json };
        command.SetAction(parse => CliRunner.Guard(() =>
        {
            if (parse.GetValue(json))
            {
                Console.Write(ZooTable.Json());
                return 0;
            }
            var paths = AssetPaths.Resolve(parse.GetValue(weightsDir));
            var only = parse.GetValue(model) is { } m ? ModelRegistry.FindArchitecture(m).Name : null;
            Console.WriteLine($"weights folder: {paths.WeightsDir}");
            foreach (var a in ModelRegistry.Architectures.Where(a => only is null || a.Name == only))
            {
                var torchvision = ModelRegistry.Find(a.Name, ModelVariant.Torchvision);
                Console.WriteLine($"{a.Name} ({a.Spec.Family}, batch {a.DefaultBatchSize}): layers {string.Join(",", torchvision.Layers)}; antialiased = {a.StudyAntialiased?.VariantName}");
                foreach (var w in a.Weights)
                {
                    string state = File.Exists(Path.Combine(paths.WeightsDir, w.FileName)) ? "present" : "missing";
                    Console.WriteLine($"  {w.VariantName,-26} filter {w.FilterSize ?? 1}  {state,-7}  {w.Url}");
                }
            }
            return 0;
        }));
        return command;
    }
}
