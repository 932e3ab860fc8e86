using System.CommandLine;
using ShiftBench.Assets;
using ShiftBench.Models;
using ShiftBench.Output;
using ShiftBench.Runs;
using ShiftBench.Workflows;

namespace ShiftBench.Cli.Commands;

public static class SweepCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "Sweep YAML (see configs/ci-sweep.yaml)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "List the cells (complete ones are skipped by a real sweep) and stop" };
        var junit = new Option<string?>("--junit") { Description = "Also write a JUnit XML report (one test case per cell and per gate) to this file" };
        var status = new Option<bool>("--status") { Description = "Show each cell's progress from its run folder (complete, shards done, positions done) and stop" };
        var shards = new Option<int>("--shards") { Description = "Split each cell into N shards (with --slurm, --task and --merge)", DefaultValueFactory = _ => 1 };
        var task = new Option<int?>("--task") { Description = "Run one task of the sweep's array: shard (I mod N) of cell (I div N) ($SLURM_ARRAY_TASK_ID)" };
        var merge = new Option<bool>("--merge") { Description = "Assemble every cell from its shards, then write the summary and check the gates" };
        var slurm = new Option<bool>("--slurm") { Description = "Write the Slurm job-array and merge scripts for the cells and shards not complete (printed unless --submit)" };
        var submit = new Option<bool>("--submit") { Description = "With --slurm: submit them with sbatch and print the job ids" };
        var precision = new Option<string?>(Precisions.OptionName) { Description = "fp32, bf16 or fp16 for every cell (default: the file's precision, else fp32)" };
        var wait = new Option<bool>("--wait") { Description = "With --submit: follow the jobs until they end; exit 1 naming the tasks that failed" };
        var command = new Command("sweep", "Run a matrix of models x variants x datasets x strides, skipping complete runs, then summarise and check the gates; or split it into a Slurm job array.")
        {
            file, dryRun, SharedOptions.WeightsDir, SharedOptions.DataDir, junit, status, shards, task, merge, slurm, submit, wait, precision, SharedOptions.Reuse,
        };
        command.SetAction((parse, cancel) => CliRunner.GuardAsync(async () =>
        {
            string path = parse.GetValue(file)!;
            var spec = SweepSpec.Load(path);
            if (parse.GetValue(precision) is { } chosen) spec.Precision = Precisions.Parse(chosen).Name();
            int shardCount = parse.GetValue(shards);
            if (shardCount < 1) throw new ShiftBenchException($"--shards {shardCount} is invalid: use 1 or more");
            if (parse.GetValue(dryRun) || parse.GetValue(status))
            {
                foreach (var cell in Sweep.Cells(spec))
                    Console.WriteLine(parse.GetValue(status)
                        ? $"{Sweep.Status(cell),-28} {cell.Name} -> {cell.RunDirectory}"
                        : $"{(Sweep.IsComplete(cell) ? "complete" : "to run"),-8} {cell.Name} -> {cell.RunDirectory}");
                return 0;
            }
            if (parse.GetValue(slurm))
                return SubmitOrPrint(spec, path, shardCount, parse.GetValue(submit), parse.GetValue(wait), cancel);
            if (parse.GetValue(submit) || parse.GetValue(wait))
                throw new ShiftBenchException("--submit and --wait go with --slurm");

            var paths = AssetPaths.Resolve(parse.GetValue(SharedOptions.WeightsDir), parse.GetValue(SharedOptions.DataDir));
            string reuse = parse.GetValue(SharedOptions.Reuse)!;
            Runs.Reuse.ReuseEngine.CheckMode(reuse);
            if (parse.GetValue(task) is { } index)
            {
                var t = SlurmSweep.Task(spec, shardCount, index);
                if (Sweep.IsComplete(t.Cell)) { Console.WriteLine($"complete {t.Cell.Name}"); return 0; }
                await ConsoleProgress.RunAsync(p => Task.Run(() => Sweep.RunCell(t.Cell, paths.DataDir, paths.WeightsDir, p, cancel, new ShardSpec(t.Shard, t.Shards), reuse: reuse), cancel));
                Console.WriteLine($"done     {t.Name}");
                return 0;
            }
            bool merging = parse.GetValue(merge);
            var outcomes = await ConsoleProgress.RunAsync(p => Task.Run(() => Sweep.Run(spec,
                (cell, ct) => Task.Run(() => Sweep.RunCell(cell, paths.DataDir, paths.WeightsDir, p, ct, merge: merging, reuse: reuse), ct), cancel), cancel));
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

    static int SubmitOrPrint(SweepSpec spec, string path, int shards, bool submit, bool wait, CancellationToken cancel)
    {
        string cli = SelfCommand();
        if (!submit)
        {
            if (wait) throw new ShiftBenchException("--wait goes with --submit");
            var pending = SlurmSweep.Pending(spec, shards);
            Console.WriteLine($"# {SlurmFolderNote(spec)}: array.sbatch ({pending.Count} tasks), then merge.sbatch with --dependency=afterok:<array job id>");
            foreach (var t in pending) Console.WriteLine($"#   task {t.Index}: {t.Name}");
            Console.WriteLine(SlurmSweep.ArrayScript(spec, path, shards, pending, cli));
            Console.WriteLine(SlurmSweep.MergeScript(spec, path, shards, cli));
            return 0;
        }
        var submission = SlurmSweep.Submit(spec, path, shards, cli);
        Console.WriteLine($"array job {submission.ArrayJobId}: {submission.Tasks.Count} tasks; merge job {submission.MergeJobId} (afterok)");
        if (!wait) return 0;
        var notCompleted = SlurmSweep.Wait(submission, TimeSpan.FromSeconds(2), cancel);
        if (notCompleted.Count == 0)
        {
            Console.WriteLine($"all tasks and the merge completed; summary: {Path.Combine(spec.Out, SweepFiles.SummaryCsv)}");
            return 0;
        }
        var byIndex = submission.Tasks.ToDictionary(t => t.Index);
        string Describe((string Job, string State) s)
        {
            var parts = s.Job.Split('_');
            return parts.Length == 2 && int.TryParse(parts[1], out int i) && byIndex.TryGetValue(i, out var t)
                ? $"task {i} ({t.Name}) {s.State}" : $"job {s.Job} {s.State}";
        }
        Console.Error.WriteLine($"error: {notCompleted.Count} job(s) did not complete: {string.Join("; ", notCompleted.Select(Describe))}; resubmit with the same command to run only what is missing");
        return 1;
    }

    static string SlurmFolderNote(SweepSpec spec) => $"scripts for {SlurmSweep.SlurmFolder(spec)}";

    /// <summary>How a Slurm task starts this very ShiftBench: the apphost, or `dotnet shiftbench.dll`.</summary>
    static string SelfCommand()
    {
        string process = Environment.ProcessPath ?? "dotnet";
        string dll = typeof(SweepCommand).Assembly.Location;
        return Path.GetFileNameWithoutExtension(process) == "dotnet" ? $"{process} {dll}" : process;
    }
}
