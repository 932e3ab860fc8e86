using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace ShiftBench.Output;

/// <summary>
/// Lower-case hex SHA-256 of a file: the one hash used to verify downloads and to record what a run read.
/// Remembered per (path, size, modification time) within the process, so `run` hashes a weight file once
/// although both the asset check and run.json need it.
/// </summary>
public static class FileHash
{
    static readonly ConcurrentDictionary<(string Path, long Length, DateTime Modified), string> Known = new();

    public static string Sha256(string path, string what = "file")
    {
        var key = KeyOf(path);
        if (Known.TryGetValue(key, out var sha)) return sha;
        using var stream = Output.InputFile.OpenRead(path, what, 1 << 20);
        return Known[key] = Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    public static async Task<string> Sha256Async(string path, CancellationToken cancellationToken = default)
    {
        var key = KeyOf(path);
        if (Known.TryGetValue(key, out var sha)) return sha;
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, useAsync: true);
        return Known[key] = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
    }

    static (string, long, DateTime) KeyOf(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"{path} does not exist", path);
        return (info.FullName, info.Length, info.LastWriteTimeUtc);
    }
}
