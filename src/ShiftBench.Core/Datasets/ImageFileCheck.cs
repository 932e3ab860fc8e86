namespace ShiftBench.Datasets;

/// <summary>
/// Refuses an image file that is cut off before its end, which ImageSharp decodes leniently (the missing rows
/// come out black: half a strawberry, exit 0) while PIL and OpenCV refuse it. A PNG must reach its IEND chunk
/// through well-formed chunks; a JPEG must end its last scan (SOS) with an EOI marker. Other formats are left to
/// the decoder. Also refuses files that are not regular files or are above <see cref="InputLimits.MaxImageBytes"/>.
/// </summary>
public static class ImageFileCheck
{
    static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public static void CheckWhole(string path)
    {
        var file = new FileInfo(path);
        if (file.Length > InputLimits.MaxImageBytes)
            throw new ShiftBenchException($"source image {path} is {file.Length >> 20} MiB, above the limit of {InputLimits.MaxImageBytes >> 20} MiB; give a smaller PNG or JPEG");
        try
        {
            using var stream = Output.InputFile.OpenRead(path, "source image", 1 << 16);
            if (!stream.CanSeek || file.Length == 0)
                throw new ShiftBenchException($"source image {path} is not a regular file (or is empty); give a PNG or JPEG file");
            Span<byte> head = stackalloc byte[8];
            int got = stream.ReadAtLeast(head, 8, throwOnEndOfStream: false);
            string? problem = got < 3 ? null
                : head[..got].SequenceEqual(PngSignature) ? PngProblem(stream)
                : head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF ? JpegProblem(stream)
                : null;
            if (problem is not null)
                throw new ShiftBenchException($"source image {path} is truncated or damaged ({problem}); replace it with the whole file");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ShiftBenchException($"source image {path} cannot be read ({e.Message})");
        }
    }

    /// <summary>Walks the chunks (length, type, data, CRC) after the signature up to IEND.</summary>
    static string? PngProblem(FileStream stream)
    {
        Span<byte> header = stackalloc byte[8];
        long position = 8, length = stream.Length;
        while (true)
        {
            stream.Position = position;
            if (stream.ReadAtLeast(header, 8, throwOnEndOfStream: false) < 8) return $"the file ends at byte {position} without an IEND chunk";
            uint size = (uint)(header[0] << 24 | header[1] << 16 | header[2] << 8 | header[3]);
            if (size > int.MaxValue) return $"chunk at byte {position} declares {size} bytes";
            long next = position + 12 + size;
            if (next > length) return $"chunk '{System.Text.Encoding.ASCII.GetString(header[4..8])}' at byte {position} needs {size} bytes but the file ends at byte {length}";
            if (header[4..8].SequenceEqual("IEND"u8)) return null;
            position = next;
        }
    }

    /// <summary>The last start-of-scan marker (FF DA) must be followed by an end-of-image marker (FF D9); in scan data every FF is stuffed.</summary>
    static string? JpegProblem(FileStream stream)
    {
        stream.Position = 0;
        var buffer = new byte[1 << 16];
        long offset = 0, lastScan = -1, lastEnd = -1;
        int previous = -1, read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            for (int i = 0; i < read; i++)
            {
                if (previous == 0xFF)
                {
                    if (buffer[i] == 0xDA) lastScan = offset + i;
                    else if (buffer[i] == 0xD9) lastEnd = offset + i;
                }
                previous = buffer[i];
            }
            offset += read;
        }
        return lastEnd > lastScan ? null : "no end-of-image marker after the last scan";
    }
}
