using System.CommandLine;
using ShiftBench.Assets;
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
        var command = new Command("sweep", "Run a matrix of models x variants x datasets x strides, skipping complete runs, then summarise.") { file, dryRun, weightsDir, dataDir };
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
            Console.WriteLine($"summary: {Path.Combine(spec.Out, "sweep-summary.csv")} and .md");
            var failed = outcomes.Where(o => o.Status == "failed").ToList();
            if (failed.Count > 0)
            {
                Console.Error.WriteLine($"error: {failed.Count} of {outcomes.Count} cells failed: {string.Join(", ", failed.Select(f => f.Cell.Name))}");
                return 1;
            }
            return 0;
        }));
        return command;
    }
}
