using System.CommandLine;
using ShiftBench.Report;

namespace ShiftBench.Cli.Commands;

public static class FigureCommand
{
    public static Command Create()
    {
        var command = new Command("figure", "Publication figures (PNG and SVG) from the runs below OUT_DIR.");
        command.Subcommands.Add(Pair());
        command.Subcommands.Add(Grid());
        command.Subcommands.Add(Profile());
        return command;
    }

    static Argument<string> OutDir() => new("OUT_DIR") { Description = "folder the runs wrote to", DefaultValueFactory = _ => "out" };
    static Option<string> Required(string name, string description) => new(name) { Description = description, Required = true };
    // Options of several figures: one instance each, added to every figure that takes it.
    static readonly Option<string> Dataset = Required("--dataset", "dataset, e.g. berry");
    static readonly Option<string> Layer = Required("--layer", "layer, e.g. fc or class");
    static readonly Option<string?> OutFile = new("--out") { Description = "figure file (.png or .svg); default: OUT_DIR/figures/<name>.png and .svg" };
    static readonly Option<double?> Vmin = new("--vmin") { Description = "colour-scale minimum (default: the data's minimum, floored to 0.01)" };
    static readonly Option<double> Vmax = new("--vmax") { Description = "colour-scale maximum", DefaultValueFactory = _ => 1.0 };

    static Command Pair()
    {
        var (outDir, dataset, layer) = (OutDir(), Dataset, Layer);
        var model = new Option<string?>("--model") { Description = "network, e.g. resnet50: its torchvision and antialiased runs" };
        var pair = new Option<string[]>("--pair") { Description = "two runs MODEL/VARIANT instead of --model, e.g. --pair alexnet/torchvision my_net/onnx", Arity = new ArgumentArity(2, 2), AllowMultipleArgumentsPerToken = true };
        var anchor = new Option<string?>("--anchor") { Description = "anchor (tl, tr, c, bl, br, ...); not used for class" };
        var variants = new Option<string?>("--variants") { Description = "panels, comma-separated variant names (default torchvision,antialiased; `all` = every variant of the model)" };
        var (outFile, vmin, vmax) = (OutFile, Vmin, Vmax);
        var command = new Command("pair", "Variants side by side (torchvision | antialiased by default) for one model, dataset, layer and anchor.");
        command.Arguments.Add(outDir);
        foreach (var o in new Option[] { model, pair, dataset, layer, anchor, variants, outFile, vmin, vmax }) command.Options.Add(o);
        command.SetAction(p => CliRunner.Guard(() =>
        {
            if (p.GetValue(model) is not null && p.GetValue(pair) is { Length: 2 }) throw new ShiftBenchException("give --model or --pair, not both");
            var written = p.GetValue(pair) is { Length: 2 } runs
                ? FigureJobs.PairOf(p.GetValue(outDir)!, runs[0], runs[1], p.GetValue(dataset)!, p.GetValue(layer)!, p.GetValue(anchor), p.GetValue(outFile), p.GetValue(vmin), p.GetValue(vmax))
                : FigureJobs.Pair(p.GetValue(outDir)!, p.GetValue(model) ?? throw new ShiftBenchException("--model M (its variants) or --pair MODEL/VARIANT MODEL/VARIANT is required"),
                    p.GetValue(dataset)!, p.GetValue(layer)!, p.GetValue(anchor), p.GetValue(outFile), p.GetValue(vmin), p.GetValue(vmax),
                    p.GetValue(variants) is { } v ? Models.ModelRegistry.ParseVariants(v, p.GetValue(model)) : null);
            foreach (var path in written)
                Console.WriteLine($"wrote {path}");
            return 0;
        }));
        return command;
    }

    static Command Grid()
    {
        var (outDir, dataset, layer) = (OutDir(), Dataset, Layer);
        var models = new Option<string[]>("--models") { Description = "rows, in this order (default: every model run)", AllowMultipleArgumentsPerToken = true };
        var anchors = new Option<string[]>("--anchors") { Description = "columns, in this order (default: every anchor)", AllowMultipleArgumentsPerToken = true };
        var variant = new Option<string>("--variant") { Description = "variant name (torchvision, antialiased, antialiased-lpf3, ...)", DefaultValueFactory = _ => "torchvision" };
        var (outFile, vmin, vmax) = (OutFile, Vmin, Vmax);
        var command = new Command("grid", "Models x anchors for one dataset, layer and variant (like the study's figure 3), one shared colour bar.");
        command.Arguments.Add(outDir);
        foreach (var o in new Option[] { dataset, layer, models, anchors, variant, outFile, vmin, vmax }) command.Options.Add(o);
        command.SetAction(p => CliRunner.Guard(() =>
        {
            foreach (var path in FigureJobs.Grid(p.GetValue(outDir)!, p.GetValue(dataset)!, p.GetValue(layer)!, SplitList(p.GetValue(models)),
                         SplitList(p.GetValue(anchors)), p.GetValue(variant)!, p.GetValue(outFile), p.GetValue(vmin), p.GetValue(vmax)))
                Console.WriteLine($"wrote {path}");
            return 0;
        }));
        return command;
    }

    static Command Profile()
    {
        var (outDir, model, dataset) = (OutDir(), Required("--model", "network, e.g. resnet18"), Dataset);
        var metric = new Option<string>("--metric") { Description = "run-summary metric per layer (global, local, c.mean, ...)", DefaultValueFactory = _ => Analysis.DepthProfile.DefaultMetric };
        var variants = new Option<string?>("--variant") { Description = "lines, comma-separated variant names (default: every variant whose run has the stages)" };
        var outFile = OutFile;
        var command = new Command("profile", "One metric over the network's stages (stem, each stage, pool, fc), a line per variant; runs made with `run --layers stages`. PNG, SVG and CSV.");
        command.Arguments.Add(outDir);
        foreach (var o in new Option[] { model, dataset, metric, variants, outFile }) command.Options.Add(o);
        command.SetAction(p => CliRunner.Guard(() =>
        {
            foreach (var path in FigureJobs.Profile(p.GetValue(outDir)!, p.GetValue(model)!, p.GetValue(dataset)!, p.GetValue(metric)!,
                         p.GetValue(variants) is { } v ? Models.ModelRegistry.ParseVariants(v, p.GetValue(model)) : null, p.GetValue(outFile)))
                Console.WriteLine($"wrote {path}");
            return 0;
        }));
        return command;
    }

    /// <summary>Accepts "a b", "a,b" or repeated options.</summary>
    static List<string>? SplitList(string[]? values) =>
        values is null ? null : values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
}
