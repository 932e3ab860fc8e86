using System.Diagnostics;

namespace ShiftBench;

/// <summary>One reading of <see cref="ProgressRates"/>: the pass's rate (null until it has done something) and its time so far.</summary>
public readonly record struct ProgressReading(double? Rate, TimeSpan PassElapsed, bool NewPass);

/// <summary>
/// The rates progress lines show: per task, what was done since the task's current pass began over the time since
/// then. A pass begins at a task's first update and again whenever Done goes back (the same task run again, as in
/// bench's alternating rounds), so equal rounds read equal rates and no rate counts work done before its pass's
/// first update. Producers report Done = 0 when their own clock starts, so a pass's last rate is their figure.
/// Not thread-safe: callers serialise updates.
/// </summary>
public sealed class ProgressRates(Func<TimeSpan> now)
{
    sealed record Pass(TimeSpan Start, long StartDone, long LastDone);

    readonly Dictionary<string, Pass> passes = [];

    /// <summary>Rates on the wall clock.</summary>
    public ProgressRates() : this(Wall(Stopwatch.StartNew())) { }

    static Func<TimeSpan> Wall(Stopwatch clock) => () => clock.Elapsed;

    public ProgressReading Observe(ProgressUpdate u)
    {
        var time = now();
        bool newPass = !passes.TryGetValue(u.Task, out var pass) || u.Done < pass.LastDone;
        if (newPass) pass = new Pass(time, u.Done, u.Done);
        passes[u.Task] = pass! with { LastDone = u.Done };
        var elapsed = time - pass!.Start;
        long done = u.Done - pass.StartDone;
        double? rate = done > 0 && elapsed > TimeSpan.Zero ? done / elapsed.TotalSeconds : null;
        return new ProgressReading(rate, elapsed, newPass);
    }
}
