using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace ShiftBench.Output;

/// <summary>A record file that cannot be used: damaged (not the record's JSON) or of a schema this version does not read.</summary>
public class RecordException(string message) : ShiftBenchException(message);

/// <summary>
/// The one reader and writer of ShiftBench's typed JSON records (run.json, summary.json, the job records): bounded
/// reads, schema_version checked on every read, atomic writes. Each record type owns its file name and versions.
/// </summary>
public static class RecordFile
{
    public const string VersionField = "schema_version";

    /// <summary>
    /// The record at <paramref name="path"/>, null when there is none. A file without schema_version (schema 0) is read
    /// by <paramref name="legacy"/> when one is given; any other version than <paramref name="currentVersion"/> is refused
    /// in one line naming the file, never guessed at. <paramref name="fix"/> ends the message of a damaged file.
    /// </summary>
    public static T? Read<T>(string path, JsonTypeInfo<T> info, int currentVersion, Func<JsonElement, T>? legacy = null, string? fix = null) where T : class
    {
        if (!File.Exists(path)) return null;
        int version;
        try
        {
            string text;
            try { text = BoundedFile.ReadAllText(path, Path.GetFileName(path)); }
            catch (ShiftBenchException) when (!File.Exists(path)) { return null; } // removed (replaced) since the check above
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new JsonException("not a JSON object");
            version = root.TryGetProperty(VersionField, out var v) ? v.GetInt32() : 0;
            if (version == currentVersion) return root.Deserialize(info) ?? throw new JsonException("null");
            if (version == 0 && legacy is not null) return legacy(root);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new RecordException($"{path} is damaged ({Describe(e)}){(fix is null ? "" : "; " + fix)}");
        }
        throw new RecordException($"{path} has schema_version {version}, which this shiftbench does not read " +
            $"(it reads {currentVersion}{(legacy is null ? "" : " and files without schema_version")}): it was written by " +
            (version > currentVersion ? "a newer shiftbench; upgrade ShiftBench to read it" : "an earlier shiftbench"));
    }

    public static void Write<T>(string path, T record, JsonTypeInfo<T> info) =>
        AtomicFile.Write(path, tmp => File.WriteAllBytes(tmp, JsonSerializer.SerializeToUtf8Bytes(record, info)));

    /// <summary>A JSON tree as the element a record holds (for sub-objects whose shape another type owns).</summary>
    public static JsonElement? Element(JsonNode? node) =>
        node is null ? null : JsonSerializer.SerializeToElement(node, RecordJson.Default.JsonNode);

    const string MissingRequired = "missing required properties including: ";

    /// <summary>The first line of the serializer's message, naming the field (by its JSON path) where it can.</summary>
    static string Describe(Exception e)
    {
        string first = e.Message.Split('\n')[0];
        string? at = (e as JsonException)?.Path is { Length: > 1 } p ? p.TrimStart('$').TrimStart('.') : null;
        int missing = first.IndexOf(MissingRequired, StringComparison.Ordinal);
        if (missing >= 0)
        {
            string names = first[(missing + MissingRequired.Length)..].TrimEnd('.').Replace("'", "");
            return $"field {(at is null ? "" : at + ".")}{names} is missing";
        }
        if (at is not null && first.Contains("could not be converted", StringComparison.Ordinal))
            return $"field {at} has the wrong type";
        return first;
    }
}
