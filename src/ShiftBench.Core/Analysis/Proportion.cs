namespace ShiftBench.Analysis;

/// <summary>A share of successes with its 95% Wilson score interval.</summary>
public sealed record Proportion(long Successes, long Trials, double Value, double Low, double High)
{
    /// <summary>z for a two-sided 95% interval: the 0.975 quantile of the standard normal.</summary>
    public const double Z95 = 1.959963984540054;

    /// <summary>
    /// Wilson's interval (p̂ + z²/2n ± z·sqrt(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n); it stays inside [0, 1] and behaves at p̂ = 0 or 1.
    /// Null trials give NaN throughout.
    /// </summary>
    public static Proportion Wilson(long successes, long trials)
    {
        if (trials <= 0) return new(successes, trials, double.NaN, double.NaN, double.NaN);
        double n = trials, p = successes / n, z2 = Z95 * Z95;
        double centre = p + z2 / (2 * n), half = Z95 * Math.Sqrt(p * (1 - p) / n + z2 / (4 * n * n)), scale = 1 + z2 / n;
        return new(successes, trials, p, Math.Max(0, (centre - half) / scale), Math.Min(1, (centre + half) / scale));
    }
}
