using System.Text;

namespace ShiftBench.Output;

/// <summary>
/// Writes files under a temporary name beside the target and renames them into place, so a file that
/// exists under its real name is always whole (a killed run never leaves a complete-looking half file).
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<string> writeTemporary)
    {
        string temporary = $"{path}.tmp-{Environment.ProcessId}";
        try
        {
            writeTemporary(temporary);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    public static void WriteAllText(string path, string text) =>
        Write(path, tmp => File.WriteAllText(tmp, text, new UTF8Encoding(false)));
}
