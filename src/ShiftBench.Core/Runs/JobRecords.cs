using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using ShiftBench.Output;

namespace ShiftBench.Runs;

/// <summary>
/// progress.json of a job's work area: how far the computation identified by <see cref="Fingerprint"/> got.
/// Schema 1; files without schema_version (schema 0, earlier versions) wrote the next position as `done`
/// (runs, shards) or `next` (consistency) and are read as such.
/// </summary>
public sealed record JobProgress(string Fingerprint, int Next, int End, int BatchSize, double Seconds)
{
    public const int CurrentVersion = 1;
    public int SchemaVersion { get; init; } = CurrentVersion;

    public const string FileName = RunLayout.ProgressFile;

    public static JobProgress? Read(string workDir) => JobRecords.Read(Path.Combine(workDir, FileName), JobJson.Default.JobProgress, CurrentVersion, Legacy);

    /// <summary>The progress to resume from; one that cannot be read is refused in one line, never guessed at.</summary>
    public static JobProgress? ReadToResume(string workDir)
    {
        try { return Read(workDir); }
        catch (JobRecordException e) { throw new ShiftBenchException($"{e.Message}; run without --resume to start again"); }
    }

    public void Write(string workDir) => JobRecords.Write(Path.Combine(workDir, FileName), this with { Seconds = Math.Round(Seconds, 3) }, JobJson.Default.JobProgress);

    /// <summary>Schema 0: the same facts, the next position under `done` or `next`, batch size and seconds optional.</summary>
    static JobProgress Legacy(JsonElement e) => new(
        e.GetProperty("fingerprint").GetString() ?? throw new JsonException("fingerprint is null"),
        (e.TryGetProperty("done", out var done) ? done : e.GetProperty("next")).GetInt32(),
        e.TryGetProperty("end", out var end) ? end.GetInt32() : int.MaxValue,
        e.TryGetProperty("batch_size", out var batch) ? batch.GetInt32() : 0,
        e.TryGetProperty("seconds", out var seconds) ? seconds.GetDouble() : 0) { SchemaVersion = 0 };
}

/// <summary>One file of a finished shard: its name in the shard folder, length and SHA-256 (lower-case hex).</summary>
public sealed record ShardFile(string Name, long Bytes, string Sha256);

/// <summary>
/// manifest.json of a finished shard (RUN/.partial/shard-K-of-N/): what computed it, the positions it holds and a
/// checksum of every file beside it, so `merge` can refuse a damaged shard before writing anything. Written last:
/// a shard without it is unfinished.
/// </summary>
public sealed record ShardManifest(string Fingerprint, int BatchSize, int Begin, int End, double Seconds, IReadOnlyList<ShardFile> Files)
{
    public const int CurrentVersion = 1;
    public int SchemaVersion { get; init; } = CurrentVersion;

    public const string FileName = "manifest.json";

    public static ShardManifest? Read(string shardDir) => JobRecords.Read(Path.Combine(shardDir, FileName), JobJson.Default.ShardManifest, CurrentVersion);

    public void Write(string shardDir) => JobRecords.Write(Path.Combine(shardDir, FileName), this, JobJson.Default.ShardManifest);
}

/// <summary>One rename of a commit, both paths relative to the result folder.</summary>
public sealed record CommitMove(string From, string To);

/// <summary>
/// commit.json in a job's work area: every final file is whole (staged) and these renames put them in place, the
/// completion file (run.json, summary.json) last. Once it exists the result is decided; finishing it is idempotent.
/// </summary>
public sealed record CommitRecord(string Fingerprint, IReadOnlyList<CommitMove> Moves)
{
    public const int CurrentVersion = 1;
    public int SchemaVersion { get; init; } = CurrentVersion;

    public const string FileName = "commit.json";

    public static CommitRecord? Read(string workDir) => JobRecords.Read(Path.Combine(workDir, FileName), JobJson.Default.CommitRecord, CurrentVersion);

    public void Write(string workDir) => JobRecords.Write(Path.Combine(workDir, FileName), this, JobJson.Default.CommitRecord);
}

/// <summary>Who holds a result folder's lock (its .lock.json): for the message that refuses a second writer.</summary>
public sealed record LockOwner(int Pid, string Host, string StartedUtc, string Command)
{
    public const int CurrentVersion = 1;
    public int SchemaVersion { get; init; } = CurrentVersion;
}

/// <summary>A job record that cannot be used: damaged (not the record's JSON) or of a schema this version does not read.</summary>
public sealed class JobRecordException(string message) : RecordException(message);

/// <summary>The job records' reader and writer: <see cref="RecordFile"/>'s, failing with <see cref="JobRecordException"/>.</summary>
public static class JobRecords
{
    /// <summary>
    /// The record at <paramref name="path"/>, null when there is none. A file of another schema is read by
    /// <paramref name="legacy"/> when it is schema 0 and one is given, and refused otherwise; never guessed at.
    /// </summary>
    public static T? Read<T>(string path, JsonTypeInfo<T> info, int currentVersion, Func<JsonElement, T>? legacy = null) where T : class
    {
        try { return RecordFile.Read(path, info, currentVersion, legacy); }
        catch (RecordException e) { throw new JobRecordException(e.Message); }
    }

    public static void Write<T>(string path, T record, JsonTypeInfo<T> info) => RecordFile.Write(path, record, info);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true, WriteIndented = true)]
[JsonSerializable(typeof(JobProgress))]
[JsonSerializable(typeof(ShardManifest))]
[JsonSerializable(typeof(CommitRecord))]
[JsonSerializable(typeof(LockOwner))]
[JsonSerializable(typeof(string[]))]
internal sealed partial class JobJson : JsonSerializerContext;
