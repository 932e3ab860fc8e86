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
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                     new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx => result = await work(new LiveBars(ctx)));
        return result;
    }

    public static Task RunAsync(Func<IProgress<ProgressUpdate>, Task> work) =>
        RunAsync<bool>(async p => { await work(p); return true; });

    /// <summary>Updates the bars inline (not via a SynchronizationContext) so the last update is always drawn.</summary>
    sealed class LiveBars(ProgressContext ctx) : IProgress<ProgressUpdate>
    {
        readonly Lock gate = new();
        readonly Dictionary<string, (ProgressTask Bar, Stopwatch Clock, long FirstDone)> bars = [];

        public void Report(ProgressUpdate u)
        {
            lock (gate)
            {
                if (!bars.TryGetValue(u.Task, out var state))
                    bars[u.Task] = state = (ctx.AddTask(Markup.Escape(u.Task), maxValue: Math.Max(1, u.Total)), Stopwatch.StartNew(), u.Done);
                if (u.Total > 0) state.Bar.MaxValue = u.Total;
                state.Bar.Value = u.Done;
                // Rate over this session only (a resumed run starts at FirstDone).
                double rate = (u.Done - state.FirstDone) / Math.Max(state.Clock.Elapsed.TotalSeconds, 1e-9);
                string of = u.Total > 0 ? $"/{u.Total}" : "";
                state.Bar.Description = Markup.Escape($"{u.Task}  {Format(u.Done, u.Unit)}{of} {u.Unit}  {Format((long)rate, u.Unit)} {u.Unit}/s");
            }
        }
    }

    static string Format(long value, string unit) => unit == "bytes" && value >= 1 << 20 ? $"{value / (double)(1 << 20):F1}Mi" : value.ToString();

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
