using System.Diagnostics;
using System.Globalization;
using System.Text;
using ShiftBench.Runs;
using YamlDotNet.Serialization;

namespace ShiftBench.Workflows;

/// <summary>The sweep file's `slurm:` section: #SBATCH options of the array job (and of the merge job, less gres).</summary>
public sealed class SlurmOptions
{
    public string? Partition { get; set; }
    /// <summary>Time limit per task, as Slurm writes it (e.g. 02:00:00).</summary>
    public string? Time { get; set; }
    [YamlMember(Alias = "cpus_per_task")]
    public int? CpusPerTask { get; set; }
    /// <summary>Memory per task (e.g. 16G).</summary>
    public string? Mem { get; set; }
    /// <summary>Generic resources, e.g. gpu:1.</summary>
    public string? Gres { get; set; }
    public string? Account { get; set; }
    /// <summary>Further lines copied verbatim under the options, e.g. "#SBATCH --qos=low" or "module load cuda".</summary>
    public List<string> Extra { get; set; } = [];
}

/// <summary>One array task: shard Shard of Shards of one cell. Index is its place in <see cref="SlurmSweep.Tasks"/>.</summary>
public sealed record SweepTask(int Index, SweepCell Cell, int Shard, int Shards)
{
    public string Name => $"{Cell.Name} shard {Shard}/{Shards}";
}

/// <summary>Slurm job ids of a submitted sweep.</summary>
public sealed record SlurmSubmission(string ArrayJobId, string MergeJobId, IReadOnlyList<SweepTask> Tasks);

/// <summary>
/// A sweep as a Slurm job array: one task per cell x shard (`shiftbench sweep FILE --task I --shards N`), and a
/// job that depends on the whole array (afterok) and merges every cell, then writes the summary and checks the
/// gates (`shiftbench sweep FILE --merge --shards N`). Only tasks whose shard is not complete are in the array,
/// so resubmitting finishes what a failed or cancelled task left.
/// </summary>
public static class SlurmSweep
{
    /// <summary>Every task of the sweep, cell by cell, shards in order; index = cell index x shards + shard.</summary>
    public static IReadOnlyList<SweepTask> Tasks(SweepSpec spec, int shards)
    {
        if (shards < 1) throw new ShiftBenchException($"--shards {shards} is invalid: use 1 or more");
        var cells = Sweep.Cells(spec);
        return [.. cells.SelectMany((cell, c) => Enumerable.Range(0, shards).Select(k => new SweepTask(c * shards + k, cell, k, shards)))];
    }

    public static SweepTask Task(SweepSpec spec, int shards, int index)
    {
        var tasks = Tasks(spec, shards);
        return index >= 0 && index < tasks.Count ? tasks[index]
            : throw new ShiftBenchException($"--task {index} is out of range: this sweep has tasks 0..{tasks.Count - 1} with --shards {shards}");
    }

    /// <summary>Tasks still to run: the cell is not complete and this shard has not finished.</summary>
    public static IReadOnlyList<SweepTask> Pending(SweepSpec spec, int shards) =>
        [.. Tasks(spec, shards).Where(t => !Sweep.IsComplete(t.Cell) && !ShardedRun.IsShardComplete(t.Cell.RunDirectory, t.Shard, t.Shards))];

    /// <summary>The array job's batch script. cli is how a task starts ShiftBench (e.g. "dotnet /opt/shiftbench/shiftbench.dll").</summary>
    public static string ArrayScript(SweepSpec spec, string sweepFile, int shards, IReadOnlyList<SweepTask> pending, string cli)
    {
        if (pending.Count == 0) throw new ShiftBenchException($"{sweepFile}: every cell and shard is complete; nothing to submit (run `shiftbench sweep {sweepFile} --merge --shards {shards}` if the summary is missing)");
        var s = new StringBuilder("#!/bin/bash\n");
        s.Append("#SBATCH --job-name=shiftbench-sweep\n");
        s.Append($"#SBATCH --array={ArrayRanges(pending.Select(t => t.Index))}\n");
        s.Append($"#SBATCH --output={LogPattern(spec, "task-%A_%a.out")}\n");
        AppendOptions(s, spec.Slurm, withGres: true);
        s.Append("# One task = one shard of one cell (see `shiftbench sweep FILE --slurm` for the list).\n");
        s.Append("set -euo pipefail\n");
        s.Append(NativeHeap.ExportLine).Append('\n');
        s.Append($"exec {cli} sweep {Quote(Path.GetFullPath(sweepFile))} --task \"$SLURM_ARRAY_TASK_ID\" --shards {shards}{PrecisionArgument(spec)}\n");
        return s.ToString();
    }

    /// <summary>The merge job's batch script: assembles every cell, writes the summary, checks the gates.</summary>
    public static string MergeScript(SweepSpec spec, string sweepFile, int shards, string cli)
    {
        var s = new StringBuilder("#!/bin/bash\n");
        s.Append("#SBATCH --job-name=shiftbench-merge\n");
        s.Append($"#SBATCH --output={LogPattern(spec, "merge-%j.out")}\n");
        AppendOptions(s, spec.Slurm, withGres: false);
        s.Append("set -euo pipefail\n");
        s.Append(NativeHeap.ExportLine).Append('\n');
        s.Append($"exec {cli} sweep {Quote(Path.GetFullPath(sweepFile))} --merge --shards {shards}{PrecisionArgument(spec)}\n");
        return s.ToString();
    }

    /// <summary>Writes both scripts to OUT/slurm/ and submits them with sbatch (the merge job after the array, afterok).</summary>
    public static SlurmSubmission Submit(SweepSpec spec, string sweepFile, int shards, string cli)
    {
        var pending = Pending(spec, shards);
        string folder = SlurmFolder(spec);
        Directory.CreateDirectory(folder);
        string array = Path.Combine(folder, "array.sbatch"), merge = Path.Combine(folder, "merge.sbatch");
        File.WriteAllText(array, ArrayScript(spec, sweepFile, shards, pending, cli));
        File.WriteAllText(merge, MergeScript(spec, sweepFile, shards, cli));
        string arrayId = Sbatch(array);
        string mergeId = Sbatch(merge, $"--dependency=afterok:{arrayId}");
        return new SlurmSubmission(arrayId, mergeId, pending);
    }

    /// <summary>
    /// Follows the jobs until none is pending or running (polling squeue/scontrol), then returns the final state of
    /// every array task that did not complete (e.g. FAILED, CANCELLED, TIMEOUT) and of the merge job.
    /// </summary>
    public static IReadOnlyList<(string Job, string State)> Wait(SlurmSubmission submission, TimeSpan poll, CancellationToken cancel = default)
    {
        while (true)
        {
            cancel.ThrowIfCancellationRequested();
            var states = JobStates(submission.ArrayJobId).Concat(JobStates(submission.MergeJobId)).ToList();
            if (states.Count > 0 && states.All(s => !IsActive(s.State)))
            {
                // A task cancelled while still pending leaves the array without a record of its own.
                var seen = states.Select(s => s.Job).ToHashSet();
                var vanished = submission.Tasks.Select(t => $"{submission.ArrayJobId}_{t.Index}").Where(id => !seen.Contains(id))
                    .Select(id => (id, "CANCELLED"));
                return [.. states.Where(s => s.State != "COMPLETED"), .. vanished];
            }
            Thread.Sleep(poll);
        }
    }

    /// <summary>Job (or array task) ids and states, from `scontrol -o show job` (kept for MinJobAge after the end).</summary>
    public static IReadOnlyList<(string Job, string State)> JobStates(string jobId)
    {
        var (code, stdout, stderr) = RunTool("scontrol", ["-o", "show", "job", jobId]);
        if (code != 0)
            throw new ShiftBenchException($"scontrol show job {jobId} failed: {FirstLine(stderr)}; is SLURM_CONF set and the cluster up?");
        var result = new List<(string, string)>();
        foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string? Field(string name) => line.Split(' ').FirstOrDefault(f => f.StartsWith(name + "=", StringComparison.Ordinal))?[(name.Length + 1)..];
            string job = Field("ArrayTaskId") is { } task && Field("ArrayJobId") is { } arrayJob ? $"{arrayJob}_{task}" : Field("JobId") ?? jobId;
            result.Add((job, Field("JobState") ?? "UNKNOWN"));
        }
        return result;
    }

    static bool IsActive(string state) => state is "PENDING" or "RUNNING" or "CONFIGURING" or "COMPLETING" or "REQUEUED" or "RESIZING" or "SUSPENDED";

    public static string SlurmFolder(SweepSpec spec) => Path.Combine(Path.GetFullPath(spec.Out), "slurm");

    static string LogPattern(SweepSpec spec, string name) => Path.Combine(SlurmFolder(spec), name);

    static void AppendOptions(StringBuilder s, SlurmOptions? o, bool withGres)
    {
        if (o is null) return;
        if (o.Partition is { } p) s.Append($"#SBATCH --partition={p}\n");
        if (o.Account is { } a) s.Append($"#SBATCH --account={a}\n");
        if (o.Time is { } t) s.Append($"#SBATCH --time={t}\n");
        if (o.CpusPerTask is { } c) s.Append($"#SBATCH --cpus-per-task={c.ToString(CultureInfo.InvariantCulture)}\n");
        if (o.Mem is { } m) s.Append($"#SBATCH --mem={m}\n");
        if (withGres && o.Gres is { } g) s.Append($"#SBATCH --gres={g}\n");
        foreach (var line in o.Extra) s.Append(line).Append('\n');
    }

    /// <summary>Slurm's --array syntax for a sorted set of indices: runs collapse to a-b (e.g. 0-3,7,9-10).</summary>
    public static string ArrayRanges(IEnumerable<int> indices)
    {
        var sorted = indices.Distinct().Order().ToList();
        var parts = new List<string>();
        for (int i = 0; i < sorted.Count;)
        {
            int j = i;
            while (j + 1 < sorted.Count && sorted[j + 1] == sorted[j] + 1) j++;
            parts.Add(i == j ? $"{sorted[i]}" : $"{sorted[i]}-{sorted[j]}");
            i = j + 1;
        }
        return string.Join(',', parts);
    }

    static string Sbatch(string script, params string[] options)
    {
        var (code, stdout, stderr) = RunTool("sbatch", ["--parsable", .. options, script]);
        if (code != 0) throw new ShiftBenchException($"sbatch {script} failed: {FirstLine(stderr)}");
        return stdout.Trim().Split(';')[0]; // --parsable prints "jobid[;cluster]"
    }

    static (int Code, string Stdout, string Stderr) RunTool(string tool, IReadOnlyList<string> args)
    {
        var info = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        try
        {
            using var process = Process.Start(info)!;
            var stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, stdout, stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new ShiftBenchException($"{tool} could not be started ({e.Message}): run on a Slurm login node, or leave out --submit to print the scripts");
        }
    }

    static string FirstLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? "no message";

    /// <summary>A `sweep --precision` given on the command line is carried into the tasks (the file's own value needs nothing).</summary>
    static string PrecisionArgument(SweepSpec spec) =>
        spec.Precision == Output.RunLayout.DefaultPrecision ? "" : $" {Models.Precisions.OptionName} {spec.Precision}";

    static string Quote(string path) => path.IndexOfAny([' ', '\'', '"', '$', '`', '\\']) < 0 ? path : "'" + path.Replace("'", "'\\''") + "'";
}
