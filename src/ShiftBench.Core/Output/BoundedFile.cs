using System.Text;

namespace ShiftBench.Output;

/// <summary>
/// Reading a small text file (a dataset config, run.json, a sweep file, a CSV) with a size limit, so that a huge
/// file, or a device such as /dev/zero that never ends, is refused with one line instead of filling memory.
/// </summary>
public static class BoundedFile
{
    /// <summary>The limit for the configs and run metadata ShiftBench reads (the largest real one is a few kilobytes).</summary>
    public const long MaxTextBytes = 16L << 20;

    /// <summary>The text of path (UTF-8); a ShiftBenchException naming what (e.g. "dataset config") when it is larger than maxBytes or unreadable.</summary>
    public static string ReadAllText(string path, string what, long maxBytes = MaxTextBytes)
    {
        try
        {
            using var stream = InputFile.OpenRead(path, what, 1);
            var buffer = new byte[(int)Math.Min(maxBytes + 1, 1 << 16)];
            using var kept = new MemoryStream();
            int read;
            while ((read = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, maxBytes + 1 - kept.Length))) > 0)
            {
                kept.Write(buffer, 0, read);
                if (kept.Length > maxBytes)
                    throw new ShiftBenchException(new FileInfo(path).Length > maxBytes
                        ? $"{what} {path} is larger than the limit of {Size(maxBytes)}; give the {what} itself, not another file"
                        : $"{what} {path} is not a regular file (it reads past {Size(maxBytes)}); give a {what} file");
            }
            return new UTF8Encoding(false).GetString(kept.GetBuffer(), 0, (int)kept.Length).TrimStart('\uFEFF');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ShiftBenchException($"{what} {path} cannot be read ({e.Message})");
        }
    }

    /// <summary>
    /// The lines of a text file (without '\n'; a '\r' before it is kept), like File.ReadLines but a line longer than
    /// maxLineChars is a FormatException naming the line: a file with no line breaks (/dev/zero) cannot fill memory.
    /// </summary>
    public static IEnumerable<string> ReadLines(string path, int maxLineChars = 4096, string what = "file")
    {
        using var reader = new StreamReader(InputFile.OpenRead(path, what), new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true);
        var line = new StringBuilder();
        var buffer = new char[1 << 14];
        int read, number = 1;
        while ((read = reader.Read(buffer, 0, buffer.Length)) > 0)
            for (int i = 0; i < read; i++)
            {
                if (buffer[i] == '\n')
                {
                    yield return line.ToString();
                    line.Clear();
                    number++;
                }
                else if (line.Length == maxLineChars)
                    throw new FormatException($"line {number} is longer than {maxLineChars} characters");
                else line.Append(buffer[i]);
            }
        if (line.Length > 0) yield return line.ToString();
    }

    static string Size(long bytes) => bytes >= 1 << 20 ? $"{bytes >> 20} MiB" : $"{bytes >> 10} KiB";
}
