using System.Diagnostics;
using Spectre.Console;

namespace ShiftBench.Cli.Commands;

/// <summary>
/// Draws ProgressUpdates: Spectre.Console bars (count, rate, ETA) on an interactive terminal; in CI or
/// when output is redirected, one plain line per task at most every 10 s and one at completion.
/// </summary>
public static class ConsoleProgress
{
    public static bool Interactive =>
        !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("CI") is null or "" or "false";

    public static async Task<T> RunAsync<T>(Func<IProgress<ProgressUpdate>, Task<T>> work)
    {
        if (!Interactive)
            return await work(new PlainLines());

        T result = default!;
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        await console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                     new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx => result = await work(new LiveBars(ctx)));
        return result;
    }

    public static Task RunAsync(Func<IProgress<ProgressUpdate>, Task> work) =>
        RunAsync<bool>(async p => { await work(p); return true; });

    /// <summary>Updates the bars inline (not via a SynchronizationContext) so the last update is always drawn.</summary>
    sealed class LiveBars(ProgressContext ctx) : IProgress<ProgressUpdate>
    {
        readonly Lock gate = new();
        readonly Dictionary<string, ProgressTask> bars = [];

        public void Report(ProgressUpdate u)
        {
            lock (gate)
            {
                if (!bars.TryGetValue(u.Task, out var bar))
                    bars[u.Task] = bar = ctx.AddTask(u.Task, maxValue: Math.Max(1, u.Total));
                if (u.Total > 0) bar.MaxValue = u.Total;
                bar.Value = u.Done;
            }
        }
    }

    sealed class PlainLines : IProgress<ProgressUpdate>
    {
        static readonly TimeSpan Every = TimeSpan.FromSeconds(10);
        readonly Lock gate = new();
        readonly Dictionary<string, (Stopwatch Clock, TimeSpan LastPrinted)> tasks = [];

        public void Report(ProgressUpdate u)
        {
            lock (gate)
            {
                if (!tasks.TryGetValue(u.Task, out var state))
                    tasks[u.Task] = state = (Stopwatch.StartNew(), TimeSpan.Zero);
                var elapsed = state.Clock.Elapsed;
                bool finished = u.Total > 0 && u.Done >= u.Total;
                if (!finished && elapsed - state.LastPrinted < Every) return;
                tasks[u.Task] = (state.Clock, elapsed);
                double rate = u.Done / Math.Max(elapsed.TotalSeconds, 1e-9);
                string eta = u.Total > 0 && rate > 0 ? $", eta {TimeSpan.FromSeconds((u.Total - u.Done) / rate):hh\\:mm\\:ss}" : "";
                string of = u.Total > 0 ? $"/{u.Total}" : "";
                Console.Error.WriteLine($"{u.Task}: {u.Done}{of} {u.Unit}, {rate:F1} {u.Unit}/s{eta}");
            }
        }
    }
}
