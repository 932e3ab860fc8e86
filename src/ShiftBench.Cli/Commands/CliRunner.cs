using ShiftBench;

namespace ShiftBench.Cli.Commands;

/// <summary>Turns user errors into one line on stderr and exit code 2; anything else is a bug (exit 1).</summary>
public static class CliRunner
{
    // errno values .NET puts in an IOException's HResult on Linux: ENOSPC, EFBIG, EDQUOT.
    private const int NoSpace = 28, FileTooLarge = 27, QuotaExceeded = 122;

    /// <summary>The disk (or the user's quota) is full: the user's to fix, and every write is atomic, so --resume continues.</summary>
    public static bool IsDiskFull(IOException e) => (e.HResult & 0xFFFF) is NoSpace or FileTooLarge or QuotaExceeded;

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
        catch (IOException e) when (IsDiskFull(e))
        {
            Console.Error.WriteLine($"error: {e.Message.Split('\n')[0]}; free some space (or give another --out) and rerun the same command with --resume");
            return 2;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("interrupted: rerun the same command with --resume to continue");
            return 130;
        }
    }
}
