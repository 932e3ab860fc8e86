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
        var model = new Option<string?>("--model") { Description = "An ONNX file (PATH.onnx): its input, outputs, opset and producer" };
        var layers = new Option<string?>("--layers") { Description = "An ONNX file (PATH.onnx): also every intermediate tensor a layer may name, with shapes where the file has them" };
        var command = new Command("models", "List the model zoo: variants, filter size, layers, published weight files and whether they are present; or describe an ONNX file.") { weightsDir, model, layers };
        foreach (var option in RunCommand.OnnxOptionSet) command.Options.Add(option);
        command.SetAction(parse => CliRunner.Guard(() =>
        {
            string? onnxPath = parse.GetValue(layers) ?? parse.GetValue(model);
            if (onnxPath is not null)
            {
                if (!OnnxModel.IsOnnxPath(onnxPath)) throw new ShiftBenchException($"'{onnxPath}' is not a .onnx file (--model/--layers): `shiftbench models` lists the zoo");
                Describe(RunCommand.LoadOnnx(parse, onnxPath)!, parse.GetValue(layers) is not null);
                return 0;
            }
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
