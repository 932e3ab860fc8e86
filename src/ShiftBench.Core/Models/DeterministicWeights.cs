using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Models;

/// <summary>
/// Reproducible pseudo-random weights and inputs without weight files: every value is a 32-bit integer
/// hash of (FNV-1a of the state-dict key, element index), mapped to [-1, 1) in float64 and rounded to
/// float32. tools/fixtures/make_parity_fixtures.py implements the same arithmetic with torch int64 ops,
/// so both languages produce bit-identical tensors for parity tests and benchmarks.
/// </summary>
public static class DeterministicWeights
{
    const ulong Mask32 = 0xFFFFFFFF;
    const ulong Golden = 0x9E3779B1;
    const ulong Mix = 0x045D9F3B;
    const int Chunk = 1 << 20;

    public static uint Fnv1a32(string text)
    {
        uint h = 0x811C9DC5;
        foreach (var b in Encoding.UTF8.GetBytes(text))
            h = unchecked((h ^ b) * 0x01000193);
        return h;
    }

    /// <summary>Element <paramref name="index"/> of stream <paramref name="seed"/>, uniform in [-1, 1).</summary>
    public static double Uniform(uint seed, long index)
    {
        // Every product stays below 2^63, matching the Python twin's int64 arithmetic exactly.
        ulong x = ((ulong)index * Golden + seed) & Mask32;
        x ^= x >> 16;
        x = (x * Mix) & Mask32;
        x ^= x >> 16;
        x = (x * Mix) & Mask32;
        x ^= x >> 16;
        return x / 4294967296.0 * 2.0 - 1.0;
    }

    /// <summary>
    /// value = offset + scale * u for a state-dict entry, chosen so activations stay in a sane range;
    /// null for entries the generator leaves alone (BlurPool filters, batch counters).
    /// </summary>
    public static (double Scale, double Offset)? Rule(string key, ReadOnlySpan<long> shape)
    {
        var leaf = key[(key.LastIndexOf('.') + 1)..];
        switch (leaf)
        {
            case "filt" or "num_batches_tracked": return null;
            case "running_mean": return (0.1, 0.0);
            case "running_var": return (0.5, 1.0);
            case "bias": return (0.01, 0.0);
            case "weight" when shape.Length == 1: return (0.2, 1.0); // batch-norm scale
            case "weight":
                long fanIn = 1;
                foreach (var d in shape[1..]) fanIn *= d;
                return (Math.Sqrt(3.0 / fanIn), 0.0);
            default:
                throw new ShiftBenchException($"DeterministicWeights: no rule for state-dict entry '{key}'");
        }
    }

    /// <summary>Overwrites every parameter and statistic of <paramref name="model"/> in place.</summary>
    public static void Fill(nn.Module model)
    {
        using var _ = no_grad();
        foreach (var (key, tensor) in model.state_dict())
            Fill(key, tensor);
    }

    /// <summary>Overwrites one state-dict tensor (float32, contiguous) with its generated values.</summary>
    public static void Fill(string key, Tensor tensor)
    {
        if (Rule(key, tensor.shape) is not var (scale, offset)) return;
        if (tensor.dtype != ScalarType.Float32)
            throw new ShiftBenchException($"DeterministicWeights: '{key}' is {tensor.dtype}, expected Float32");
        var seed = Fnv1a32(key);
        using var flat = tensor.view(-1);
        var total = flat.numel();
        var buffer = new float[(int)Math.Min(Chunk, total)];
        for (long start = 0; start < total; start += Chunk)
        {
            var count = (int)Math.Min(Chunk, total - start);
            Parallel.For(0, count, i =>
            {
                var v = Uniform(seed, start + i) * scale;
                buffer[i] = (float)(offset != 0.0 ? v + offset : v);
            });
            using var source = torch.tensor(buffer.AsSpan(0, count).ToArray());
            using var target = flat.narrow(0, start, count);
            target.copy_(source);
        }
    }

    /// <summary>
    /// The parity test input, [batch, 3, size, size]: stripes plus hash noise, with a different stripe
    /// period, brightness and noise level per image. Powers of two keep every value exact before float32.
    /// </summary>
    public static Tensor ParityInput(int batch = 2, int size = 224)
    {
        var values = new float[batch * 3 * size * size];
        var seed = Fnv1a32("input");
        Parallel.For(0, batch * 3, bc =>
        {
            int b = bc / 3, c = bc % 3;
            long period = 64 >> (2 * (b % 2));
            double odd = b % 2;
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                {
                    long index = ((long)bc * size + y) * size + x;
                    double stripes = (((long)x * (3 + c + 4 * b) + (long)y * (5 + 7 * b)) % period) / (double)(period / 2) - 1.0;
                    values[index] = (float)(stripes + Uniform(seed, index) * (0.5 + 0.5 * odd) + (0.25 - 0.5 * odd));
                }
        });
        return torch.tensor(values).reshape(batch, 3, size, size);
    }
}
