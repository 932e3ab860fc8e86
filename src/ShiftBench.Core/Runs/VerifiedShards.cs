using System.Security.Cryptography;
using System.Text.Json;
using ShiftBench.Output;

namespace ShiftBench.Runs;

/// <summary>
/// Finished shards carry a manifest (<see cref="ShardManifest"/>) with the SHA-256 of every file, written last; `merge`
/// checks each shard against it and refuses a missing, truncated, corrupt or torn file, naming it, before writing anything.
/// </summary>
public static class VerifiedShards
{
    /// <summary>Seals a finished shard: hashes every file of its folder (what it stored, its args.json) into manifest.json.</summary>
    public static void Seal(string shardDir, string fingerprint, int batchSize, int begin, int end, double seconds)
    {
        var files = Directory.EnumerateFiles(shardDir).Select(Path.GetFileName).OfType<string>()
            .Where(n => n is not (JobProgress.FileName or ShardManifest.FileName) && !n.Contains(".tmp-"))
            .Order(StringComparer.Ordinal)
            .Select(n => new ShardFile(n, new FileInfo(Path.Combine(shardDir, n)).Length, Sha256(Path.Combine(shardDir, n))));
        new ShardManifest(fingerprint, batchSize, begin, end, Math.Round(seconds, 3), [.. files]).Write(shardDir);
    }

    /// <summary>The manifest of a sealed shard of this computation (same fingerprint and batch size), or null.</summary>
    public static ShardManifest? Sealed(string shardDir, string fingerprint, int batchSize)
    {
        try
        {
            return ShardManifest.Read(shardDir) is { } m && m.Fingerprint == fingerprint && m.BatchSize == batchSize ? m : null;
        }
        catch (JobRecordException)
        {
            return null; // a damaged manifest: the shard is computed again
        }
    }

    /// <summary>
    /// Why shard <paramref name="shard"/> cannot be merged into this computation, or null with its manifest when it can:
    /// every listed file is present with its length and SHA-256.
    /// </summary>
    public static (string? Problem, ShardManifest? Manifest) Check(string runDir, ShardSpec shard, string fingerprint, int batchSize, (int Begin, int End) range)
    {
        string dir = ShardedRun.ShardDirectory(runDir, shard);
        ShardManifest? manifest;
        try { manifest = ShardManifest.Read(dir); }
        catch (JobRecordException e) { return ($"shard {shard}: {e.Message}", null); }
        if (manifest is null) return (Unfinished(dir, shard, fingerprint), null);
        if (manifest.Fingerprint != fingerprint) return ($"shard {shard} was made by another computation (fingerprint {manifest.Fingerprint}, this run {fingerprint})", null);
        if (manifest.BatchSize != batchSize) return ($"shard {shard} used batch size {manifest.BatchSize}, this run {batchSize}", null);
        if ((manifest.Begin, manifest.End) != range)
            return ($"shard {shard} holds positions {manifest.Begin}..{manifest.End}, this run's shard {shard} is {range.Begin}..{range.End}", null);
        foreach (var file in manifest.Files)
        {
            string path = Path.Combine(dir, file.Name);
            if (!File.Exists(path)) return ($"shard {shard}: {path} is missing", null);
            long length = new FileInfo(path).Length;
            if (length != file.Bytes)
                return ($"shard {shard}: {path} is {(length < file.Bytes ? "truncated" : "too long")} ({length} bytes, its manifest says {file.Bytes})", null);
            if (Sha256(path) != file.Sha256) return ($"shard {shard}: {path} is corrupt (its SHA-256 differs from {ShardManifest.FileName})", null);
        }
        return (null, manifest);
    }

    /// <summary>What a shard without a manifest is: missing, unfinished (how far), another computation's, or its progress damaged.</summary>
    static string Unfinished(string dir, ShardSpec shard, string fingerprint)
    {
        if (!Directory.Exists(dir)) return $"shard {shard} is missing";
        JobProgress? progress;
        try { progress = JobProgress.Read(dir); }
        catch (JobRecordException e) { return $"shard {shard}: {e.Message}"; }
        if (progress is null) return $"shard {shard} is missing";
        if (progress.Fingerprint != fingerprint) return $"shard {shard} was made by another computation (fingerprint {progress.Fingerprint}, this run {fingerprint})";
        return $"shard {shard} is incomplete ({progress.Next} of {progress.End} positions, no {ShardManifest.FileName}{(progress.SchemaVersion == 0 ? "; it was made by an earlier shiftbench, without checksums" : "")})";
    }

    /// <summary>
    /// The `run` arguments that made the shards of <paramref name="runDir"/> (for `merge RUN_DIR`): the first shard's
    /// args.json, checked against its manifest when it is sealed.
    /// </summary>
    public static string[] ReadRunArguments(string runDir)
    {
        foreach (var shard in ShardedRun.Present(runDir))
        {
            string dir = ShardedRun.ShardDirectory(runDir, shard), path = Path.Combine(dir, RunLayout.RunArgumentsFile);
            if (!File.Exists(path)) continue;
            ShardManifest? manifest;
            try { manifest = ShardManifest.Read(dir); }
            catch (JobRecordException e) { throw new ShiftBenchException($"cannot merge {runDir}: shard {shard}: {e.Message}; run shard {shard} again"); }
            if (manifest?.Files.FirstOrDefault(f => f.Name == RunLayout.RunArgumentsFile) is { } listed && (new FileInfo(path).Length != listed.Bytes || Sha256(path) != listed.Sha256))
                throw new ShiftBenchException($"cannot merge {runDir}: shard {shard}: {path} is corrupt (its SHA-256 differs from {ShardManifest.FileName}); run shard {shard} again");
            try
            {
                return JsonSerializer.Deserialize(File.ReadAllBytes(path), JobJson.Default.StringArray) ?? throw new JsonException("null");
            }
            catch (JsonException e)
            {
                throw new ShiftBenchException($"cannot merge {runDir}: shard {shard}: {path} is damaged ({e.Message.Split('\n')[0]}); run shard {shard} again");
            }
        }
        throw new ShiftBenchException($"{runDir} has no shard made by `run --shard` ({RunLayout.PartialFolder}/shard-K-of-N/{RunLayout.RunArgumentsFile}); pass the run folder the shards were written to");
    }

    /// <summary>The file's SHA-256 read now (not <see cref="FileHash"/>'s remembered one: verification must see the bytes as they are).</summary>
    static string Sha256(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
