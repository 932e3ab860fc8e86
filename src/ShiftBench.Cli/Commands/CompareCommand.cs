using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ShiftBench;
using ShiftBench.Analysis;
using ShiftBench.Output;
using Spectre.Console;

namespace ShiftBench.Cli.Commands;

public static class CompareCommand
{
    public static Command Create()
    {
        var outDir = new Argument<string>("out-dir") { Description = "Output root the runs were written to" };
        var model = new Option<string>("--model") { Description = "Network", Required = true };
        var dataset = new Option<string>("--dataset") { Description = "Dataset name", Required = true };
        var json = new Option<bool>("--json") { Description = "Print JSON rows" };
        var markdown = new Option<bool>("--markdown") { Description = "Print a Markdown table" };
        var gate = new Option<string[]>("--gate") { Description = "A gate to check, e.g. \"antialiased.fc.global >= torchvision.fc.global\" (repeatable); a failed gate exits 1" };
        var junit = new Option<string?>("--junit") { Description = "Also write a JUnit XML report (one test case per run and per gate) to this file" };
        var command = new Command("compare", "Every metric of torchvision vs antialiased, side by side with the difference.") { outDir, model, dataset, json, markdown, gate, junit };
        command.SetAction(parse => CliRunner.Guard(() =>
        {
            if (parse.GetValue(json) && parse.GetValue(markdown))
                throw new ShiftBenchException("--json and --markdown are exclusive: give one of them (or neither for a table)");
            var rows = Comparison.Compare(parse.GetValue(outDir)!, parse.GetValue(model)!, parse.GetValue(dataset)!);
            if (parse.GetValue(json))
            {
                var objects = rows.Select(r => new Dictionary<string, object?>
                {
                    ["layer"] = r.Layer, ["metric"] = r.Metric,
                    ["torchvision"] = Nullable(r.Torchvision), ["antialiased"] = Nullable(r.Antialiased), ["difference"] = Nullable(r.Difference),
                });
                Console.WriteLine(JsonSerializer.Serialize(objects, new JsonSerializerOptions { WriteIndented = true }));
            }
            else if (parse.GetValue(markdown))
            {
                Console.WriteLine("| layer | metric | torchvision | antialiased | difference |");
                Console.WriteLine("| --- | --- | ---: | ---: | ---: |");
                foreach (var r in rows)
                    Console.WriteLine($"| {r.Layer} | {r.Metric} | {F(r.Torchvision)} | {F(r.Antialiased)} | {F(r.Difference)} |");
            }
            else
            {
                var table = new Table().AddColumns("layer", "metric", "torchvision", "antialiased", "aa - tv");
                foreach (var r in rows)
                    table.AddRow(r.Layer, r.Metric, F(r.Torchvision), F(r.Antialiased), F(r.Difference));
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

    static double? Nullable(double v) => double.IsNaN(v) ? null : v;
    static string F(double v) => double.IsNaN(v) ? "not run" : v.ToString("F4", CultureInfo.InvariantCulture);
}
