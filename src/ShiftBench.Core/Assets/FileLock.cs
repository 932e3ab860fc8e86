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
            FileStream? stream = null;
            try
            {
                stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (File.Exists(lockPath))
            {
                if (!waited) onWaiting?.Invoke();
                waited = true;
            }
            // A holder that deleted the file as it let go leaves us locking a file with no name: try again.
            if (stream is not null && File.Exists(lockPath))
                return new FileLock(stream, lockPath);
            stream?.Dispose();
            await Task.Delay(waited ? pollInterval : TimeSpan.Zero, cancellationToken);
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
