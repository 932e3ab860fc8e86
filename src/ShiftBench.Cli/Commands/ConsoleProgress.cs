using Spectre.Console;

namespace ShiftBench.Cli.Commands;

/// <summary>
/// Draws ProgressUpdates: Spectre.Console bars (count, rate, ETA) on an interactive terminal; in CI or
/// when output is redirected, one plain line per task at most every 10 s and one at completion.
/// </summary>
public static class ConsoleProgress
{
    public static bool Interactive =>
        !Console.IsErrorRedirected && EnvironmentVariables.Get("CI") is null or "" or "false";

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
        readonly Dictionary<string, ProgressTask> bars = [];
        readonly ProgressRates rates = new();

        public void Report(ProgressUpdate u)
        {
            lock (gate)
            {
                if (!bars.TryGetValue(u.Task, out var bar))
                    bars[u.Task] = bar = ctx.AddTask(Markup.Escape(u.Task), maxValue: Math.Max(1, u.Total));
                if (u.Total > 0) bar.MaxValue = u.Total;
                bar.Value = u.Done;
                // The rate of this pass only (a resumed run starts past 0; a task run again starts a new pass).
                var reading = rates.Observe(u);
                string of = u.Total > 0 ? $"/{u.Total}" : "";
                string rate = reading.Rate is { } r ? $"  {Format((long)r, u.Unit)} {u.Unit}/s" : "";
                bar.Description = Markup.Escape($"{u.Task}  {Format(u.Done, u.Unit)}{of} {u.Unit}{rate}");
            }
        }
    }

    static string Format(long value, string unit) => unit == "bytes" && value >= 1 << 20 ? $"{value / (double)(1 << 20):F1}Mi" : value.ToString();

    sealed class PlainLines : IProgress<ProgressUpdate>
    {
        static readonly TimeSpan Every = TimeSpan.FromSeconds(10);
        readonly Lock gate = new();
        readonly ProgressRates rates = new();
        readonly Dictionary<string, TimeSpan> lastPrinted = [];

        public void Report(ProgressUpdate u)
        {
            lock (gate)
            {
                var reading = rates.Observe(u);
                if (reading.NewPass) lastPrinted[u.Task] = TimeSpan.Zero;
                bool finished = u.Total > 0 && u.Done >= u.Total;
                if (!finished && reading.PassElapsed - lastPrinted[u.Task] < Every) return;
                lastPrinted[u.Task] = reading.PassElapsed;
                string rate = reading.Rate is { } r ? $", {r:F1} {u.Unit}/s" : "";
                string eta = u.Total > 0 && reading.Rate is > 0 ? $", eta {TimeSpan.FromSeconds((u.Total - u.Done) / reading.Rate.Value):hh\\:mm\\:ss}" : "";
                string of = u.Total > 0 ? $"/{u.Total}" : "";
                Console.Error.WriteLine($"{u.Task}: {u.Done}{of} {u.Unit}{rate}{eta}");
            }
        }
    }
}
