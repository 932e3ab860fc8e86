using System.CommandLine;
using ShiftBench.Output;
using ShiftBench.Runs;

namespace ShiftBench.Cli.Commands;

/// <summary>`shiftbench merge RUN_DIR`: the run its shards were made for, assembled from them (as `run ... --merge`).</summary>
public static class MergeCommand
{
    public static Command Create()
    {
        var runDir = new Argument<string>("run-dir") { Description = "A run folder (OUT/dataset/model/variant) holding shards made with run --shard K/N" };
        var command = new Command("merge", "Check that every shard of a run is complete and made alike, and write the whole run exactly as an unsharded one.") { runDir };
        command.SetAction((parse, cancel) => CliRunner.GuardAsync(async () =>
        {
            string dir = parse.GetValue(runDir)!;
            var args = VerifiedShards.ReadRunArguments(dir);
            var parse2 = RunCommand.Create().Parse([.. args, "--merge"]);
            if (parse2.Errors.Count > 0)
                throw new ShiftBenchException($"{dir}: the shards' {RunLayout.RunArgumentsFile} does not parse ({parse2.Errors[0].Message}); run `shiftbench run ... --merge` with the shards' options");
            var request = RunRequestBuilder.Build(RunCommand.ReadChoices(parse2)).Single();
            if (Path.GetFullPath(request.RunDirectory) != Path.GetFullPath(dir))
                throw new ShiftBenchException($"{dir}: its shards were made for {request.RunDirectory}; merge that folder");
            var result = await RunCommand.RunAsync(request, cancel);
            Console.WriteLine(RunCommand.Describe(result));
            return 0;
        }));
        return command;
    }
}
