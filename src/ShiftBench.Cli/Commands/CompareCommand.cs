using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ShiftBench;
using ShiftBench.Analysis;
using ShiftBench.Models;
using ShiftBench.Output;
using Spectre.Console;

namespace ShiftBench.Cli.Commands;

public static class CompareCommand
{
    public static Command Create()
    {
        var outDir = new Argument<string>("out-dir") { Description = "Output root the runs were written to" };
        var model = new Option<string?>("--model") { Description = "Network: compares its torchvision and antialiased runs" };
        var pair = new Option<string[]>("--pair") { Description = "Two runs MODEL/VARIANT instead of --model, e.g. --pair alexnet/torchvision my_net/onnx", Arity = new ArgumentArity(2, 2), AllowMultipleArgumentsPerToken = true };
        var dataset = new Option<string>("--dataset") { Description = "Dataset name", Required = true };
        var variants = new Option<string?>("--variant") { Description = "Variants to compare, comma-separated (default: torchvision, antialiased and every other variant that was run); differences are against the first" };
        var json = new Option<bool>("--json") { Description = "Print JSON rows" };
        var markdown = new Option<bool>("--markdown") { Description = "Print a Markdown table" };
        var gate = new Option<string[]>("--gate") { Description = "A gate to check, e.g. \"antialiased.fc.global >= torchvision.fc.global\" (repeatable); a failed gate exits 1" };
        var junit = new Option<string?>("--junit") { Description = "Also write a JUnit XML report (one test case per run and per gate) to this file" };
        var command = new Command("compare", "Every metric of two or more variants (torchvision vs antialiased by default), or of any two runs (--pair), side by side with the differences; optional gates.")
            { outDir, model, pair, dataset, variants, json, markdown, gate, junit };
        command.SetAction(parse => CliRunner.Guard(() =>
        {
            if (parse.GetValue(json) && parse.GetValue(markdown))
                throw new ShiftBenchException("--json and --markdown are exclusive: give one of them (or neither for a table)");
            if (parse.GetValue(pair) is { Length: 2 } runs)
            {
                if (parse.GetValue(model) is not null) throw new ShiftBenchException("give --model or --pair, not both");
                if (parse.GetValue(gate) is { Length: > 0 } || parse.GetValue(junit) is not null)
                    throw new ShiftBenchException("--gate and --junit work with --model (its variants), not with --pair");
                PrintPair(Comparison.ComparePair(parse.GetValue(outDir)!, parse.GetValue(dataset)!, runs[0], runs[1]), runs[0], runs[1], parse.GetValue(json), parse.GetValue(markdown));
                return 0;
            }
            string root = parse.GetValue(outDir)!, datasetName = parse.GetValue(dataset)!;
            string modelName = parse.GetValue(model)
                ?? throw new ShiftBenchException("--model M (its variants) or --pair MODEL/VARIANT MODEL/VARIANT is required");
            var names = parse.GetValue(variants) is { } text
                ? ModelRegistry.ParseVariants(text, modelName)
                : Comparison.DefaultVariants(root, modelName, datasetName);
            if (names.Count < 2)
                throw new ShiftBenchException($"--variant names {names.Count} variant: compare needs two or more, e.g. torchvision,antialiased-lpf3");
            var rows = Comparison.Compare(root, modelName, datasetName, names);
            var baseline = names[0];
            var others = names.Skip(1).ToList();
            // Two variants keep one `difference` column; more get one `V - first` column each.
            var differenceNames = others.Count == 1 ? ["difference"] : others.Select(v => $"{v} - {baseline}").ToList();
            double Diff(ComparisonRow r, string v) => r.Value(v) - r.Value(baseline);
            if (parse.GetValue(json))
            {
                var objects = rows.Select(r =>
                {
                    var o = new Dictionary<string, object?> { ["layer"] = r.Layer, ["metric"] = r.Metric };
                    foreach (var v in names) o[v] = Nullable(r.Value(v));
                    if (others.Count == 1) o["difference"] = Nullable(Diff(r, others[0]));
                    else o["differences"] = others.ToDictionary(v => v, v => Nullable(Diff(r, v)));
                    return o;
                });
                Console.WriteLine(JsonSerializer.Serialize(objects, new JsonSerializerOptions { WriteIndented = true }));
            }
            else if (parse.GetValue(markdown))
            {
                Console.WriteLine($"| layer | metric | {string.Join(" | ", names.Concat(differenceNames))} |");
                Console.WriteLine($"| --- | --- |{string.Concat(names.Concat(differenceNames).Select(_ => " ---: |"))}");
                foreach (var r in rows)
                    Console.WriteLine($"| {r.Layer} | {r.Metric} | {string.Join(" | ", names.Select(v => F(r.Value(v))).Concat(others.Select(v => F(Diff(r, v)))))} |");
            }
            else
            {
                var table = new Table().AddColumns(["layer", "metric", .. names, .. (others.Count == 1 && names.SequenceEqual(["torchvision", "antialiased"]) ? ["aa - tv"] : differenceNames)]);
                foreach (var r in rows)
                    table.AddRow([r.Layer, r.Metric, .. names.Select(v => F(r.Value(v))), .. others.Select(v => F(Diff(r, v)))]);
                AnsiConsole.Write(table);
            }
            var gateTexts = parse.GetValue(gate) ?? [];
            if (gateTexts.Length == 0 && parse.GetValue(junit) is null) return 0;
            var (gates, cases) = Comparison.CheckGates(parse.GetValue(outDir)!, parse.GetValue(model)!, parse.GetValue(dataset)!, gateTexts);
            if (parse.GetValue(junit) is { } junitPath) JUnitXml.Write(junitPath, "shiftbench compare", cases);
            var failed = gates.Where(g => !g.Passed).ToList();
            foreach (var g in gates)
                Console.Error.WriteLine($"{(g.Passed ? "pass" : "FAIL")} gate {g.Name}: {g.Detail}");
            if (failed.Count == 0) return 0;
            Console.Error.WriteLine($"error: {failed.Count} of {gates.Count} gates failed: {string.Join("; ", failed.Select(g => g.Name))}");
            return 1;
        }));
        return command;
    }

    static void PrintPair(IReadOnlyList<PairRow> rows, string left, string right, bool json, bool markdown)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(rows.Select(r => new Dictionary<string, object?>
            {
                ["layer"] = r.Layer, ["metric"] = r.Metric, [left] = Nullable(r.Left), [right] = Nullable(r.Right), ["difference"] = Nullable(r.Difference),
            }), new JsonSerializerOptions { WriteIndented = true }));
        }
        else if (markdown)
        {
            Console.WriteLine($"| layer | metric | {left} | {right} | difference |");
            Console.WriteLine("| --- | --- | ---: | ---: | ---: |");
            foreach (var r in rows) Console.WriteLine($"| {r.Layer} | {r.Metric} | {F(r.Left)} | {F(r.Right)} | {F(r.Difference)} |");
        }
        else
        {
            var table = new Table().AddColumns("layer", "metric", Markup.Escape(left), Markup.Escape(right), "right - left");
            foreach (var r in rows) table.AddRow(Markup.Escape(r.Layer), r.Metric, F(r.Left), F(r.Right), F(r.Difference));
            AnsiConsole.Write(table);
        }
    }

    static double? Nullable(double v) => double.IsNaN(v) ? null : v;
    static string F(double v) => double.IsNaN(v) ? "not run" : v.ToString("F4", CultureInfo.InvariantCulture);
}
