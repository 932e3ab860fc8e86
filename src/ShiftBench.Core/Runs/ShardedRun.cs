using System.Text.Json.Nodes;
using ShiftBench.Output;

namespace ShiftBench.Runs;

/// <summary>
/// Shard Index of Count (`run --shard K/N`): the K-th of N contiguous blocks of positions. Blocks are whole
/// batches (the block length is rounded up to a multiple of the batch size), so every shard feeds the network
/// exactly the batches an unsharded run would, and the merged features are the same bytes.
/// </summary>
public sealed record ShardSpec(int Index, int Count)
{
    public static ShardSpec Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], out int k) && int.TryParse(parts[1], out int n) && n >= 1 && k >= 0 && k < n)
            return new ShardSpec(k, n);
        throw new ShiftBenchException($"--shard '{text}' is invalid: write K/N with 0 <= K < N, e.g. 0/4");
    }

    /// <summary>The positions [Begin, End) of this shard; empty when there are more shards than batches.</summary>
    public (int Begin, int End) Range(int positions, int batchSize)
    {
        int perShard = (positions + Count - 1) / Count;
        int block = (perShard + batchSize - 1) / batchSize * batchSize;
        int begin = Math.Min(positions, Index * block);
        return (begin, Math.Min(positions, begin + block));
    }

    public string FolderName => $"shard-{Index}-of-{Count}";

    public override string ToString() => $"{Index}/{Count}";
}

/// <summary>What a shard's folder (RUN/.partial/shard-K-of-N/) says about its progress.</summary>
public sealed record ShardProgress(string Fingerprint, int Next, int End, int BatchSize, double Seconds);

/// <summary>The state of the shards of one run folder, read from their progress files.</summary>
public static class ShardedRun
{
    public const string ProgressFingerprint = "fingerprint", ProgressNext = "done", ProgressEnd = "end",
        ProgressBatch = "batch_size", ProgressSeconds = "seconds";

    public static string ShardDirectory(string runDir, ShardSpec shard) => Path.Combine(runDir, RunLayout.PartialFolder, shard.FolderName);

    public static ShardProgress? ReadProgress(string shardDir)
    {
        string path = Path.Combine(shardDir, RunLayout.ProgressFile);
        if (!File.Exists(path)) return null;
        try
        {
            var node = JsonNode.Parse(File.ReadAllText(path))!;
            return new ShardProgress(node[ProgressFingerprint]!.GetValue<string>(), node[ProgressNext]!.GetValue<int>(),
                node[ProgressEnd]?.GetValue<int>() ?? int.MaxValue, node[ProgressBatch]?.GetValue<int>() ?? 0, node[ProgressSeconds]?.GetValue<double>() ?? 0);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or NullReferenceException)
        {
            return null; // torn or foreign: the shard starts again
        }
    }

    public static bool IsShardComplete(string runDir, int index, int count) =>
        ReadProgress(ShardDirectory(runDir, new ShardSpec(index, count))) is { } p && p.Next >= p.End;

    /// <summary>Shard folders present in a run folder, as (index, count).</summary>
    public static IReadOnlyList<ShardSpec> Present(string runDir)
    {
        string partial = Path.Combine(runDir, RunLayout.PartialFolder);
        if (!Directory.Exists(partial)) return [];
        var found = new List<ShardSpec>();
        foreach (var dir in Directory.EnumerateDirectories(partial, "shard-*-of-*"))
        {
            var parts = Path.GetFileName(dir).Split('-');
            if (parts.Length == 4 && int.TryParse(parts[1], out int k) && int.TryParse(parts[3], out int n)) found.Add(new ShardSpec(k, n));
        }
        return [.. found.OrderBy(s => s.Count).ThenBy(s => s.Index)];
    }
}
