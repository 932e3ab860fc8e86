using System.CommandLine;
using ShiftBench.Report;

namespace ShiftBench.Cli.Commands;

public static class ReportCommand
{
    public static Command Create()
    {
        var outDir = new Argument<string>("OUT_DIR") { Description = "folder the runs wrote to (OUT/<dataset>/<model>/<variant>/)", DefaultValueFactory = _ => "out" };
        var dataDir = new Option<string?>("--data-dir") { Description = "folder with the source images, if not where run.json says (else $SHIFTBENCH_DATA, else data/)" };
        var command = new Command("report", "Write OUT_DIR/index.html: one self-contained interactive page over every run below OUT_DIR.");
        command.Arguments.Add(outDir);
        command.Options.Add(dataDir);
        command.SetAction(parse => CliRunner.Guard(() =>
        {
            var result = ReportBuilder.Build(parse.GetValue(outDir)!, DataDirs.From(parse.GetValue(dataDir)));
            Console.WriteLine($"wrote {result.Path}: {result.Runs} runs, {result.Grids} grids, {result.Bytes / 1048576.0:F1} MiB");
            return 0;
        }));
        return command;
    }
}

/// <summary>Where source images are looked for: --data-dir, else $SHIFTBENCH_DATA, else data/.</summary>
static class DataDirs
{
    public static IReadOnlyList<string> From(string? option)
    {
        if (option is { Length: > 0 }) return [option];
        var list = new List<string>();
        if (EnvironmentVariables.Get(ShiftBench.Assets.AssetPaths.DataVariable) is { Length: > 0 } env) list.Add(env);
        list.Add("data");
        return list;
    }
}
