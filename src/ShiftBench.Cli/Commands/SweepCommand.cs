using System.CommandLine;
using ShiftBench.Assets;
using ShiftBench.Output;
using ShiftBench.Runs;

namespace ShiftBench.Cli.Commands;

public static class SweepCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "Sweep YAML (see configs/ci-sweep.yaml)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "List the cells (complete ones are skipped by a real sweep) and stop" };
        var weightsDir = new Option<string?>("--weights-dir") { Description = "Folder of published weight files" };
        var dataDir = new Option<string?>("--data-dir") { Description = "Folder of source images" };
        var junit = new Option<string?>("--junit") { Description = "Also write a JUnit XML report (one test case per cell and per gate) to this file" };
        var command = new Command("sweep", "Run a matrix of models x variants x datasets x strides, skipping complete runs, then summarise and check the gates.") { file, dryRun, weightsDir, dataDir, junit };
        command.SetAction((parse, cancel) => CliRunner.GuardAsync(async () =>
        {
            var spec = SweepSpec.Load(parse.GetValue(file)!);
            if (parse.GetValue(dryRun))
            {
                foreach (var cell in Sweep.Cells(spec))
                    Console.WriteLine($"{(Sweep.IsComplete(cell) ? "complete" : "to run"),-8} {cell.Name} -> {cell.RunDirectory}");
                return 0;
            }
            var paths = AssetPaths.Resolve(parse.GetValue(weightsDir), parse.GetValue(dataDir));
            var outcomes = await ConsoleProgress.RunAsync(p => Task.Run(() => Sweep.Run(spec,
                (cell, ct) => Task.Run(() => Sweep.RunCell(cell, paths.DataDir, paths.WeightsDir, p, ct), ct), cancel), cancel));
            foreach (var o in outcomes)
                Console.WriteLine($"{o.Status,-8} {o.Cell.Name}{(o.Error is null ? "" : ": " + o.Error)}");
            var gates = Sweep.EvaluateGates(spec);
            foreach (var g in gates)
                Console.WriteLine($"{(g.Passed ? "pass" : "FAIL"),-8} gate {g.Name}: {g.Detail}");
            Console.WriteLine($"summary: {Path.Combine(spec.Out, SweepFiles.SummaryCsv)} and {SweepFiles.SummaryMarkdown}");
            if (parse.GetValue(junit) is { } junitPath)
            {
                JUnitXml.Write(junitPath, "shiftbench sweep", Sweep.JUnitCases(outcomes, gates));
                Console.WriteLine($"junit: {junitPath}");
            }
            var failed = outcomes.Where(o => o.Status == "failed").ToList();
            var failedGates = gates.Where(g => !g.Passed).ToList();
            if (failed.Count > 0)
                Console.Error.WriteLine($"error: {failed.Count} of {outcomes.Count} cells failed: {string.Join(", ", failed.Select(f => f.Cell.Name))}");
            if (failedGates.Count > 0)
                Console.Error.WriteLine($"error: {failedGates.Count} of {gates.Count} gates failed: {string.Join("; ", failedGates.Select(g => $"{g.Name} ({g.Detail})"))}");
            return failed.Count + failedGates.Count > 0 ? 1 : 0;
        }));
        return command;
    }
}
