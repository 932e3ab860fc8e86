using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ShiftBench.Output;

/// <summary>
/// Opens a file the user named (a config, sweep file, image, weight file, ONNX model) for reading, refusing a named
/// pipe or socket up front: opening a FIFO blocks until some writer comes, so a plain open would hang the command
/// before any check could say why. On Linux the open is non-blocking and a stream that cannot seek is refused;
/// devices that never end (/dev/zero) are left to the callers' size limits.
/// </summary>
public static class InputFile
{
    const int ReadOnly = 0, NonBlocking = 0x800, CloseOnExec = 0x80000; // <fcntl.h> on Linux, x86-64 and arm64 alike

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    /// <summary>A stream over path; a ShiftBenchException naming <paramref name="what"/> when it is a pipe or socket.</summary>
    /// <exception cref="FileNotFoundException">path does not exist (callers word their own fix).</exception>
    /// <exception cref="IOException">path cannot be opened.</exception>
    public static FileStream OpenRead(string path, string what, int bufferSize = 4096)
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(path))
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize);
        int fd = Open(path, ReadOnly | NonBlocking | CloseOnExec);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            // ENXIO: a socket, or a FIFO opened without a reader; EACCES: permission.
            if (errno == 6) throw new ShiftBenchException($"{what} {path} is not a regular file (a socket or pipe); give a regular file");
            throw new IOException($"{Marshal.GetPInvokeErrorMessage(errno)}: '{path}'");
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        FileStream stream;
        try { stream = new FileStream(handle, FileAccess.Read, bufferSize, isAsync: false); }
        catch { handle.Dispose(); throw; }
        if (!stream.CanSeek)
        {
            stream.Dispose();
            throw new ShiftBenchException($"{what} {path} is not a regular file (a pipe or socket); give a regular file");
        }
        return stream;
    }

    /// <summary>All bytes of path, refusing pipes as <see cref="OpenRead"/> does and anything above maxBytes.</summary>
    public static byte[] ReadAllBytes(string path, string what, long maxBytes)
    {
        using var stream = OpenRead(path, what, 1 << 16);
        long length = stream.Length;
        if (length > maxBytes)
            throw new ShiftBenchException($"{what} {path} is {length >> 20} MiB, above the limit of {maxBytes >> 20} MiB");
        var bytes = new byte[length];
        stream.ReadExactly(bytes);
        return bytes;
    }
}
