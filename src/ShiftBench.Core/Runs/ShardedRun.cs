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

    public string FolderName => $"{FolderPrefix}{Index}-of-{Count}";
    /// <summary>What every shard's folder and lock file in RESULT/.partial start with.</summary>
    public const string FolderPrefix = "shard-";

    public override string ToString() => $"{Index}/{Count}";
}

/// <summary>The state of the shards of one run folder: progress while they run, manifest.json once sealed (<see cref="VerifiedShards"/>).</summary>
public static class ShardedRun
{
    public static string ShardDirectory(string runDir, ShardSpec shard) => Path.Combine(runDir, RunLayout.PartialFolder, shard.FolderName);

    /// <summary>A work area's progress for status lines; null when there is none or it cannot be read.</summary>
    public static JobProgress? ReadProgress(string workDir)
    {
        try { return JobProgress.Read(workDir); }
        catch (JobRecordException) { return null; }
    }

    /// <summary>A shard is complete once sealed (its manifest, written last, exists).</summary>
    public static bool IsShardComplete(string runDir, int index, int count) =>
        File.Exists(Path.Combine(ShardDirectory(runDir, new ShardSpec(index, count)), ShardManifest.FileName));

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
