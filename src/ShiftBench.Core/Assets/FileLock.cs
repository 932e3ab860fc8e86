namespace ShiftBench.Assets;

/// <summary>
/// An exclusive lock between processes (and within one): the lock file opened with FileShare.None
/// (flock on Unix, a share mode on Windows). The OS drops it when the holder exits, even by a crash.
/// </summary>
public sealed class FileLock : IDisposable
{
    readonly FileStream handle;
    readonly string path;

    FileLock(FileStream handle, string path) => (this.handle, this.path) = (handle, path);

    /// <summary>Takes the lock, polling while another holder has it; onWaiting runs once if it must wait.</summary>
    public static async Task<FileLock> AcquireAsync(string lockPath, TimeSpan pollInterval, Action? onWaiting = null,
        CancellationToken cancellationToken = default)
    {
        bool waited = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TryAcquire(lockPath) is { } held) return held;
            if (!waited) onWaiting?.Invoke();
            waited = true;
            await Task.Delay(pollInterval, cancellationToken);
        }
    }

    /// <summary>
    /// Takes the lock if no one holds it, without waiting; null while another holder has it. A shared lock (flock
    /// LOCK_SH: several shared holders at once, none beside an exclusive one) is never deleted by its holders.
    /// </summary>
    public static FileLock? TryAcquire(string lockPath, bool shared = false)
    {
        while (true)
        {
            FileStream stream;
            try
            {
                stream = shared
                    ? new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.Read, FileShare.Read)
                    : new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (File.Exists(lockPath))
            {
                return null;
            }
            // A holder that deleted the file as it let go leaves us locking a file with no name: try again.
            if (File.Exists(lockPath)) return new FileLock(stream, lockPath);
            stream.Dispose();
        }
    }

    /// <summary>Removes the lock file while still holding it, then lets go (call when nothing is left to guard).</summary>
    public void ReleaseAndDelete()
    {
        try { File.Delete(path); }
        finally { handle.Dispose(); }
    }

    public void Dispose() => handle.Dispose();
}
