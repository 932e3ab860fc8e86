namespace ShiftBench;

/// <summary>
/// The one place ShiftBench reads environment variables (SHIFTBENCH_*, CI, XDG_CACHE_HOME): the process environment,
/// unless a caller runs the CLI inside its own process with variables of its own (<see cref="Use"/>; the tests do),
/// which must not change the variables of the whole process.
/// </summary>
public static class EnvironmentVariables
{
    static readonly AsyncLocal<Func<string, string?>?> Scoped = new();

    /// <summary>The variable's value, or null when it is not set.</summary>
    public static string? Get(string name) => Scoped.Value is { } lookup ? lookup(name) : Environment.GetEnvironmentVariable(name);

    /// <summary>Until disposed, this call and the tasks it starts read their variables from <paramref name="lookup"/>.</summary>
    public static IDisposable Use(Func<string, string?> lookup)
    {
        var previous = Scoped.Value;
        Scoped.Value = lookup;
        return new Restore(() => Scoped.Value = previous);
    }

    sealed class Restore(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }
}
