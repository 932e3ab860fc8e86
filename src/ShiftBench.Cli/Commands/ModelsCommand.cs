using System.CommandLine;
using ShiftBench.Assets;
using ShiftBench.Models;
using ShiftBench.Models.Onnx;

namespace ShiftBench.Cli.Commands;

public static class ModelsCommand
{
    public static Command Create()
    {
        var weightsDir = new Option<string?>("--weights-dir") { Description = "Folder of published weight files (default $SHIFTBENCH_WEIGHTS, else weights/)" };
        var model = new Option<string?>("--model") { Description = "Only this architecture; or an ONNX file (PATH.onnx): its input, outputs, opset and producer" };
        var layers = new Option<string?>("--layers") { Description = "An ONNX file (PATH.onnx): also every intermediate tensor a layer may name, with shapes where the file has them" };
        var json = new Option<bool>("--json") { Description = "Print the whole registry as JSON (architectures, taps, stages, files)" };
        var command = new Command("models", "List the model zoo: every architecture, its variants, filter sizes, layers, weight files, URLs and whether they are present; or describe an ONNX file.") { weightsDir, model, layers, json };
        foreach (var option in RunCommand.OnnxOptionSet) command.Options.Add(option);
        command.SetAction(parse => CliRunner.Guard(() =>
        {
            string? onnxPath = parse.GetValue(layers) ?? (parse.GetValue(model) is { } named && OnnxModel.IsOnnxPath(named) ? named : null);
            if (onnxPath is not null)
            {
                if (!OnnxModel.IsOnnxPath(onnxPath)) throw new ShiftBenchException($"'{onnxPath}' is not a .onnx file (--layers): `shiftbench models` lists the zoo");
                Describe(RunCommand.LoadOnnx(parse, onnxPath)!, parse.GetValue(layers) is not null);
                return 0;
            }
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

    static void Describe(OnnxModel m, bool all)
    {
        Console.WriteLine($"{m.Path}");
        Console.WriteLine($"  producer {m.Producer}, opset {m.OpsetVersion}, sha256 {m.Sha256}");
        Console.WriteLine($"  feeds {m.Size}x{m.Size} {(m.Bgr ? "BGR" : "RGB")}, mean {string.Join(",", m.Mean)}, std {string.Join(",", m.Std)}, batch {(m.FixedBatch?.ToString() ?? "any")}; logits (fc, class): {m.LogitsTensor}");
        Console.WriteLine($"  run folder OUT/<dataset>/{m.Name}/{OnnxModel.VariantName}; layers: fc, class, or any tensor below as NAME, NAME@gap, NAME@flat");
        foreach (var t in all ? m.AllTensors : [m.Input, .. m.Outputs])
            Console.WriteLine($"{t.Kind,-12} {t.ElementType,-8} {t.ShapeText,-20} {t.Name}");
    }
}
