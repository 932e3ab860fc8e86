using System.CommandLine;
using ShiftBench.Assets;
using ShiftBench.Models;
using ShiftBench.Models.Onnx;

namespace ShiftBench.Cli.Commands;

public static class ModelsCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "Only this architecture; or an ONNX file (PATH.onnx): its input, outputs, opset and producer" };
        var layers = new Option<string?>("--layers") { Description = "A zoo model: its named layers, stages and every module path with its output shape for a 224x224 input (--variant, --json); or an ONNX file (PATH.onnx): every tensor a layer may name" };
        var variant = new Option<string>("--variant") { Description = "With --layers M: the variant whose module tree is listed", DefaultValueFactory = _ => ModelVariant.Torchvision };
        var json = new Option<bool>("--json") { Description = "Print the whole registry as JSON (architectures, taps, stages, files)" };
        var command = new Command("models", "List the model zoo: every architecture, its variants, filter sizes, layers, weight files, URLs and whether they are present; or describe an ONNX file.") { SharedOptions.WeightsDir, model, layers, variant, json };
        foreach (var option in SharedOptions.OnnxOptionSet) command.Options.Add(option);
        command.SetAction(parse => CliRunner.Guard(() =>
        {
            if (parse.GetValue(layers) is { } zooModel && !IsOnnx(zooModel))
            {
                var listing = LayerListing.Of(ModelRegistry.Find(zooModel, parse.GetValue(variant)!));
                if (parse.GetValue(json)) Console.WriteLine(listing.ToJson().ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
                else Describe(listing);
                return 0;
            }
            string? onnxPath = parse.GetValue(layers) ?? (parse.GetValue(model) is { } named && IsOnnx(named) ? named : null);
            if (onnxPath is not null)
            {
                Describe(SharedOptions.LoadOnnx(parse, onnxPath)!, parse.GetValue(layers) is not null);
                return 0;
            }
            if (parse.GetValue(json))
            {
                Console.Write(ZooTable.Json());
                return 0;
            }
            var paths = AssetPaths.Resolve(parse.GetValue(SharedOptions.WeightsDir));
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
            foreach (var p in PackagedNetworks.All.Where(_ => only is null))
                Console.WriteLine($"{p.Name} (ONNX from NuGet {p.Package}, no download at run time): layers {string.Join(",", p.DefaultLayers)}, {ZooLayers.StagesKeyword}; no classifier");
            return 0;
        }));
        return command;
    }

    static void Describe(LayerListing l)
    {
        Console.WriteLine($"{l.Entry.Model} ({l.Entry.VariantName}), {l.InputSize}x{l.InputSize} input; --layers takes a named layer, `stages`, or a module path as PATH, PATH@gap, PATH@flat or PATH@map");
        Console.WriteLine("named layers:");
        foreach (var n in l.NamedLayers)
            Console.WriteLine($"  {n.Name,-10} {ModuleShape.ShapeText(n.Shape),-16} {n.Source}");
        Console.WriteLine($"stages (--layers stages): {string.Join(" ", l.Stages.Select(s => s.Stage == s.Layer ? s.Layer : $"{s.Stage}={s.Layer}"))}");
        Console.WriteLine("module paths (output shape per image):");
        foreach (var m in l.Modules)
            Console.WriteLine($"  {m.Path,-44} {ModuleShape.ShapeText(m.Output),-16} {m.Type}");
    }

    /// <summary>An ONNX file, or a packaged network (described as its ONNX file).</summary>
    static bool IsOnnx(string model) => OnnxModel.IsOnnxPath(model) || PackagedNetworks.Find(model) is not null;

    static void Describe(OnnxModel m, bool all)
    {
        Console.WriteLine($"{m.Path}");
        Console.WriteLine($"  producer {m.Producer}, opset {m.OpsetVersion}, sha256 {m.Sha256}");
        if (m.Packaged is { } p)
        {
            Console.WriteLine($"  {p.Name}: NuGet {p.Package}, {p.Licence}");
            Console.WriteLine($"  feeds {m.Size}x{m.Size} {(m.Bgr ? "BGR" : "RGB")} pixel values 0..255 minus the mean image of {m.MeanImage!.Path}, batch {m.FixedBatch?.ToString() ?? "any"}; no classifier (no fc, class)");
            Console.WriteLine($"  run folder OUT/<dataset>/{m.Name}/{OnnxModel.VariantName}; layers: {string.Join(", ", p.Named.Select(l => $"{l.Name}={l.Tensor}"))}; " +
                $"{ZooLayers.StagesKeyword}: {string.Join(" ", p.Stages.Select(l => $"{l.Name}={l.Tensor}"))}; or any tensor below as NAME, NAME@gap, NAME@flat, NAME@map");
        }
        else
        {
            Console.WriteLine($"  feeds {m.Size}x{m.Size} {(m.Bgr ? "BGR" : "RGB")}, mean {string.Join(",", m.Mean)}, std {string.Join(",", m.Std)}, batch {(m.FixedBatch?.ToString() ?? "any")}; logits (fc, class): {m.LogitsText}");
            Console.WriteLine($"  run folder OUT/<dataset>/{m.Name}/{OnnxModel.VariantName}; layers: fc, class, or any tensor below as NAME, NAME@gap, NAME@flat");
        }
        foreach (var t in all ? m.AllTensors : [m.Input, .. m.Outputs])
            Console.WriteLine($"{t.Kind,-12} {t.ElementType,-8} {t.ShapeText,-20} {t.Name}");
    }
}
