namespace ShiftBench.Datasets;

/// <summary>The crop offsets of one pair: crop A's top-left (Y1, X1) and crop B's (Y2, X2) in the 256x256 image.</summary>
public readonly record struct ShiftPair(int Y1, int X1, int Y2, int X2);

/// <summary>
/// The seeded offsets of `shiftbench consistency` (docs/metrics.md, "Consistency on a folder of images"), the same on every machine: SplitMix64
/// (state = seed; each draw adds 0x9E3779B97F4A7C15 to the state and mixes it), each draw mapped to 0..n-1 as
/// floor(draw * n / 2^64). Images in name order, K pairs each, four draws per pair: y1, x1, y2, x2.
/// </summary>
public static class ShiftPairs
{
    public static IReadOnlyList<ShiftPair> Draw(ulong seed, int images, int pairsPerImage, int maxShift)
    {
        var rng = new SplitMix64(seed);
        var pairs = new ShiftPair[images * pairsPerImage];
        for (int i = 0; i < pairs.Length; i++)
            pairs[i] = new ShiftPair(rng.Below(maxShift), rng.Below(maxShift), rng.Below(maxShift), rng.Below(maxShift));
        return pairs;
    }
}

/// <summary>Steele, Lea and Flood's SplitMix64 (the seeding generator of Java's SplittableRandom and xoshiro).</summary>
public sealed class SplitMix64(ulong seed)
{
    ulong state = seed;

    public ulong Next()
    {
        unchecked
        {
            ulong z = state += 0x9E3779B97F4A7C15;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
            return z ^ (z >> 31);
        }
    }

    /// <summary>0..n-1 by multiply-shift (Lemire's, without rejection: a bias below n / 2^64).</summary>
    public int Below(int n) => (int)(((UInt128)Next() * (ulong)n) >> 64);
}
