namespace ShiftBench.Assets;

/// <summary>
/// An exclusive lock between processes (and within one): the lock file opened with FileShare.None
/// (flock on Unix, a share mode on Windows). The OS drops it when the holder exits, even by a crash.
/// The empty lock file is left in place: deleting it would let a waiter lock an unlinked file.
/// </summary>
public sealed class FileLock : IDisposable
{
    readonly FileStream handle;

    FileLock(FileStream handle) => this.handle = handle;

    /// <summary>Takes the lock, polling while another holder has it; onWaiting runs once if it must wait.</summary>
    public static async Task<FileLock> AcquireAsync(string lockPath, TimeSpan pollInterval, Action? onWaiting = null,
        CancellationToken cancellationToken = default)
    {
        bool waited = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                return new FileLock(new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (File.Exists(lockPath))
            {
                if (!waited) onWaiting?.Invoke();
                waited = true;
                await Task.Delay(pollInterval, cancellationToken);
            }
        }
    }

    public void Dispose() => handle.Dispose();
}
