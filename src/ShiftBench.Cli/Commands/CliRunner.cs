using ShiftBench;

namespace ShiftBench.Cli.Commands;

/// <summary>Turns user errors into one line on stderr and exit code 2; anything else is a bug (exit 1).</summary>
public static class CliRunner
{
    public static int Guard(Func<int> body) => GuardAsync(() => Task.FromResult(body())).GetAwaiter().GetResult();

    public static async Task<int> GuardAsync(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (ShiftBenchException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("interrupted: rerun the same command with --resume to continue");
            return 130;
        }
    }
}
