using System.Diagnostics;
using System.Runtime.InteropServices;
using ShiftBench.Assets;
using ShiftBench.Output;

namespace ShiftBench.Runs;

/// <summary>
/// The resumable job protocol of every command that writes a result folder (`run`, `run --shard`, `merge`,
/// `consistency`, patches runs):
/// <list type="number">
/// <item>a lock on the result folder (RESULT/.lock; a shard's is RESULT/.partial/shard-K-of-N.lock), so a second
/// writer is refused naming the holder; the OS drops it when the holder dies, so a dead holder's lock is taken over;</item>
/// <item>a work area (RESULT/.partial or the shard's folder) with typed progress (<see cref="JobProgress"/>);</item>
/// <item>staged completion: every final file is written whole into WORK/staging, then commit.json lists the renames
/// that put them in place (the completion file, run.json or summary.json, last), then they are renamed one by one
/// (a rename already done is skipped) and the work area is deleted. A job killed before commit.json redoes its final
/// phase from the work area, which staging never consumes; one killed after it finishes the renames under --resume.</item>
/// </list>
/// </summary>
public sealed class ResultJob : IDisposable
{
    public const string LockFile = ".lock", LockSuffix = ".lock", OwnerSuffix = ".json", StagingFolder = "staging";

    public string ResultDir { get; }
    /// <summary>Unfinished state: RESULT/.partial, or a shard's RESULT/.partial/shard-K-of-N.</summary>
    public string WorkDir { get; }
    public string StagingDir => Path.Combine(WorkDir, StagingFolder);

    readonly FileLock held;
    /// <summary>A shard's shared lock on RESULT/.lock: shards run side by side, but never beside a whole run or merge.</summary>
    readonly FileLock? sharedResult;
    readonly string ownerPath;
    bool released;

    ResultJob(string resultDir, string workDir, FileLock held, FileLock? sharedResult, string ownerPath) =>
        (ResultDir, WorkDir, this.held, this.sharedResult, this.ownerPath) = (resultDir, workDir, held, sharedResult, ownerPath);

    /// <summary>Takes the result folder (or one shard of it, <paramref name="shardFolder"/>) for this process, or refuses in one line.</summary>
    public static ResultJob Open(string resultDir, string? shardFolder = null)
    {
        string partial = Path.Combine(resultDir, RunLayout.PartialFolder);
        string workDir = shardFolder is null ? partial : Path.Combine(partial, shardFolder);
        string resultLock = Path.Combine(resultDir, LockFile);
        string lockPath = shardFolder is null ? resultLock : workDir + LockSuffix;
        Directory.CreateDirectory(Path.GetDirectoryName(lockPath)!);
        // A shard first shares the result folder's lock, so a whole run or merge (which deletes .partial) cannot start
        // beside running shards, nor a shard beside them; then it takes its own shard's lock.
        var sharedResult = shardFolder is null ? null : Take(resultLock, resultDir, partial, shared: true);
        try
        {
            var held = Take(lockPath, shardFolder is null ? resultDir : workDir, partial, shared: false);
            string ownerPath = lockPath + OwnerSuffix;
            JobRecords.Write(ownerPath, new LockOwner(Environment.ProcessId, Environment.MachineName, DateTime.UtcNow.ToString("o"),
                string.Join(' ', Environment.GetCommandLineArgs())), JobJson.Default.LockOwner);
            return new ResultJob(resultDir, workDir, held, sharedResult, ownerPath);
        }
        catch
        {
            sharedResult?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The lock at lockPath, or a one-line refusal naming its holder: the exclusive holder's owner file, else a live
    /// shard's (shards hold RESULT/.lock shared and name themselves beside their own locks).
    /// </summary>
    static FileLock Take(string lockPath, string what, string partial, bool shared)
    {
        // The OS lock (flock) is the mutual exclusion; the owner file only names the holder for the message.
        // A PID check alone could not tell a dead holder from a reused PID, nor settle two processes taking over at once.
        for (int attempt = 0; ; attempt++)
        {
            if (FileLock.TryAcquire(lockPath, shared) is { } held) return held;
            // The holder names itself just after taking the lock (a dead one's name may still be there): give it a moment.
            var owner = LiveOwner(lockPath + OwnerSuffix)
                ?? (shared ? null : ShardOwners(partial).Select(LiveOwner).FirstOrDefault(o => o is not null));
            if (owner is not null || attempt >= 40)
                throw new ShiftBenchException($"{what} is being written by another shiftbench " +
                    $"({(owner is null ? "its process has not named itself" : $"process {owner.Pid} on {owner.Host}, started {owner.StartedUtc}")}): " +
                    "wait for it to finish or stop it, or write to another --out (two writers would mix their files)");
            Thread.Sleep(50);
        }
    }

    static IEnumerable<string> ShardOwners(string partial) => Directory.Exists(partial)
        ? Directory.EnumerateFiles(partial, ShardSpec.FolderPrefix + "*" + LockSuffix + OwnerSuffix).Order(StringComparer.Ordinal)
        : [];

    static LockOwner? LiveOwner(string ownerPath) => ReadOwner(ownerPath) is { } owner && IsAlive(owner.Pid) ? owner : null;

    static LockOwner? ReadOwner(string path)
    {
        try { return JobRecords.Read(path, JobJson.Default.LockOwner, LockOwner.CurrentVersion); }
        catch (Exception e) when (e is JobRecordException or IOException) { return null; } // being replaced right now
    }

    static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; }
    }

    /// <summary>
    /// Deletes the work area (a fresh start), then makes it again, empty. A whole run's work area (RESULT/.partial) keeps
    /// the shards' folders and locks in it: they are other jobs' work, which only a merge consumes.
    /// </summary>
    public void ResetWorkArea()
    {
        if (Directory.Exists(WorkDir))
        {
            bool whole = Path.GetFileName(WorkDir) == RunLayout.PartialFolder;
            foreach (var entry in Directory.EnumerateFileSystemEntries(WorkDir))
                if (whole && Path.GetFileName(entry).StartsWith(ShardSpec.FolderPrefix, StringComparison.Ordinal)) continue;
                else if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
                else File.Delete(entry);
        }
        Directory.CreateDirectory(WorkDir);
    }

    /// <summary>An empty staging folder for the final files (what an interrupted final phase left there is dropped).</summary>
    public string BeginStaging()
    {
        if (Directory.Exists(StagingDir)) Directory.Delete(StagingDir, recursive: true);
        Directory.CreateDirectory(StagingDir);
        return StagingDir;
    }

    /// <summary>
    /// Puts a work-area file into staging under <paramref name="stagedPath"/> without consuming it (a hard link, or a
    /// copy where the file system has none), so a final phase interrupted before its commit can be done again.
    /// </summary>
    public static void StageWorkFile(string workFile, string stagedPath)
    {
        if (File.Exists(stagedPath)) File.Delete(stagedPath);
        if (!OperatingSystem.IsWindows() && HardLink(workFile, stagedPath) == 0) return;
        File.Copy(workFile, stagedPath);
    }

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    static extern int HardLink(string existing, string newPath);

    /// <summary>
    /// Commits the staged files: commit.json, then each rename into the result folder, <paramref name="completionFile"/>
    /// (run.json, summary.json) last, then the work area is deleted.
    /// </summary>
    public void Commit(string fingerprint, string completionFile)
    {
        if (!File.Exists(Path.Combine(StagingDir, completionFile))) throw new InvalidOperationException($"{completionFile} was not staged");
        JobTestHook.At("staged");
        var names = Directory.EnumerateFiles(StagingDir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(StagingDir, f))
            .Where(f => f != completionFile).Order(StringComparer.Ordinal).Append(completionFile);
        string staging = Path.GetRelativePath(ResultDir, StagingDir);
        var record = new CommitRecord(fingerprint, [.. names.Select(n => new CommitMove(Path.Combine(staging, n), n))]);
        record.Write(WorkDir);
        JobTestHook.At("commit:0");
        Finish(record);
    }

    /// <summary>
    /// Finishes the commit an interrupted job of this computation (<paramref name="fingerprint"/>) decided on; false when
    /// there is none. Also clears an empty work area a job killed at its very last step left.
    /// </summary>
    public bool FinishPendingCommit(string fingerprint)
    {
        var record = CommitRecord.Read(WorkDir);
        if (record is not null && record.Fingerprint == fingerprint)
        {
            Finish(record);
            return true;
        }
        if (record is null && Directory.Exists(WorkDir) && !Directory.EnumerateFiles(WorkDir, "*", SearchOption.AllDirectories).Any())
            Directory.Delete(WorkDir, recursive: true);
        return false;
    }

    void Finish(CommitRecord record)
    {
        int moved = 0;
        foreach (var move in record.Moves)
        {
            string from = Path.Combine(ResultDir, move.From), to = Path.Combine(ResultDir, move.To);
            if (File.Exists(from))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                File.Move(from, to, overwrite: true);
            }
            else if (!File.Exists(to))
                throw new ShiftBenchException($"cannot finish the commit of {ResultDir}: {from} and {to} are both missing; run again without --resume");
            JobTestHook.At($"commit:{++moved}");
        }
        // commit.json goes last, so a job killed while deleting finds it and finishes again (every rename then skipped).
        foreach (var entry in Directory.EnumerateFileSystemEntries(WorkDir).Where(e => Path.GetFileName(e) != CommitRecord.FileName))
            if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true); else File.Delete(entry);
        Directory.Delete(WorkDir, recursive: true);
    }

    /// <summary>Lets go of the lock and removes its files (also on an exception or Ctrl-C; a killed process's lock is dropped by the OS).</summary>
    public void Dispose()
    {
        if (released) return;
        released = true;
        try
        {
            File.Delete(ownerPath);
            held.ReleaseAndDelete();
        }
        catch (DirectoryNotFoundException)
        {
            held.Dispose(); // the folder went with the work area (a merge deletes the shards' folder)
        }
        finally
        {
            sharedResult?.Dispose(); // a shared lock file stays: other shards may hold it, and deleting it would split the lock
        }
    }
}

/// <summary>
/// TEST ONLY: makes a process stop abruptly at a named point of the job protocol, so real-process tests can interrupt a
/// job exactly there. SHIFTBENCH_TEST_HOOK=kill@POINT kills this process (SIGKILL, as `kill -9`);
/// SHIFTBENCH_TEST_HOOK=pause@POINT@FILE creates FILE at POINT and waits (at most 2 minutes) until it is deleted.
/// POINT: batch:N (after the N-th progress write of this process), staged (final files staged, no commit.json yet),
/// commit:K (commit.json written and K renames done).
/// </summary>
public static class JobTestHook
{
    public const string Variable = "SHIFTBENCH_TEST_HOOK";
    static readonly string[]? Hook = Environment.GetEnvironmentVariable(Variable)?.Split('@');
    static readonly Dictionary<string, int> Counts = [];

    /// <summary>Counts one more <paramref name="name"/> event and stops if the hook names `name:count`.</summary>
    public static void Count(string name)
    {
        if (Hook is null) return;
        int count;
        lock (Counts) Counts[name] = count = Counts.GetValueOrDefault(name) + 1;
        At($"{name}:{count}");
    }

    public static void At(string point)
    {
        if (Hook is not { Length: >= 2 } || Hook[1] != point) return;
        if (Hook[0] == "kill") Process.GetCurrentProcess().Kill();
        if (Hook[0] == "pause" && Hook.Length == 3)
        {
            File.WriteAllText(Hook[2], Environment.ProcessId.ToString());
            var waited = Stopwatch.StartNew();
            while (File.Exists(Hook[2]) && waited.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(20);
        }
    }
}
