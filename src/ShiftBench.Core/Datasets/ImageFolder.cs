using System.Globalization;
using SkiaSharp;

namespace ShiftBench.Datasets;

/// <summary>One image of an evaluation folder: its name relative to the folder ('/'-separated), path and label.</summary>
public sealed record FolderImage(string Name, string Path, int? Label);

/// <summary>
/// A folder of photos for `shiftbench consistency` (Zhang's ImageNet shift protocol): listing, labels, decoding and
/// torchvision's evaluation transform `Resize(256)` + `CenterCrop(256)` on a PIL image, bit for bit.
/// Decoding is SkiaSharp's (libjpeg-turbo and libpng, as Pillow uses, with no colour management and EXIF
/// orientation ignored, as torchvision's loader does); channels beyond RGB are dropped, grey is repeated, as
/// PIL's convert("RGB").
/// </summary>
public static class ImageFolder
{
    public static readonly string[] Extensions = [".jpg", ".jpeg", ".png"];

    /// <summary>
    /// Every .jpg/.jpeg/.png below <paramref name="dir"/> (sorted by name, ordinal), each checked to be a readable
    /// image, with its label from <paramref name="labelsFile"/> (lines `NAME CLASS_INDEX`, NAME relative to dir;
    /// blank lines and lines starting with # are skipped). Every problem is one line naming the file and the fix.
    /// </summary>
    public static IReadOnlyList<FolderImage> Open(string dir, string? labelsFile)
    {
        if (!Directory.Exists(dir)) throw new ShiftBenchException($"--images {dir} is not a folder: give the folder of JPEG or PNG images");
        var files = Output.FolderScan.Files(dir, "*")
            .Where(f => Extensions.Contains(System.IO.Path.GetExtension(f).ToLowerInvariant()))
            .Select(f => (Name: System.IO.Path.GetRelativePath(dir, f).Replace('\\', '/'), Path: f))
            .OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new ShiftBenchException($"--images {dir} holds no .jpg, .jpeg or .png file: give the folder of images to evaluate");
        foreach (var (_, path) in files) CheckReadable(path);
        var labels = labelsFile is null ? null : ReadLabels(labelsFile);
        if (labels is not null)
        {
            var names = files.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var (name, (_, line)) in labels)
                if (!names.Contains(name))
                    throw new ShiftBenchException($"--labels {labelsFile} line {line}: '{name}' is not an image in {dir}; remove the line or fix the name (relative to the folder)");
            if (files.FirstOrDefault(f => !labels.ContainsKey(f.Name)) is { Name: not null } unlabelled)
                throw new ShiftBenchException($"--labels {labelsFile} has no line for {unlabelled.Name}: add `{unlabelled.Name} CLASS_INDEX`");
        }
        return [.. files.Select(f => new FolderImage(f.Name, f.Path, labels?[f.Name].Label))];
    }

    /// <summary>NAME -> (class index, line number).</summary>
    static Dictionary<string, (int Label, int Line)> ReadLabels(string path)
    {
        if (!File.Exists(path)) throw new ShiftBenchException($"--labels {path} does not exist: give a file of `NAME CLASS_INDEX` lines");
        var labels = new Dictionary<string, (int, int)>(StringComparer.Ordinal);
        int number = 0;
        foreach (var raw in Output.BoundedFile.ReadAllText(path, "--labels file").Split('\n').Select(r => r.TrimEnd('\r')))
        {
            number++;
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            int space = line.LastIndexOfAny([' ', '\t']);
            if (space < 0 || !int.TryParse(line[(space + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int label))
                throw new ShiftBenchException($"--labels {path} line {number}: '{raw}' is not `NAME CLASS_INDEX` (a file name, a space, a class index 0 or more)");
            string name = line[..space].Trim().Replace('\\', '/');
            if (!labels.TryAdd(name, (label, number)))
                throw new ShiftBenchException($"--labels {path} line {number}: '{name}' is labelled twice (also line {labels[name].Item2}); keep one line");
        }
        return labels;
    }

    static void CheckReadable(string path)
    {
        using var codec = SKCodec.Create(path, out var result);
        if (codec is null || result != SKCodecResult.Success || codec.Info.Width < 1 || codec.Info.Height < 1)
            throw new ShiftBenchException($"image {path} cannot be read ({result}); replace it with a valid JPEG or PNG file or remove it from the folder");
        if ((long)codec.Info.Width * codec.Info.Height > InputLimits.MaxSourcePixels)
            throw new ShiftBenchException($"image {path} is {codec.Info.Width}x{codec.Info.Height}, above the limit of {InputLimits.MaxSourcePixels} pixels; scale it down or remove it from the folder");
    }

    /// <summary>Decodes an image to interleaved 8-bit RGB [height, width, 3].</summary>
    public static (byte[] Rgb, int Width, int Height) LoadRgb(string path)
    {
        using var codec = SKCodec.Create(path, out var created);
        if (codec is null) throw new ShiftBenchException($"image {path} cannot be read ({created}); replace it with a valid JPEG or PNG file or remove it from the folder");
        int width = codec.Info.Width, height = codec.Info.Height;
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[width * height * 4];
        var pinned = System.Runtime.InteropServices.GCHandle.Alloc(rgba, System.Runtime.InteropServices.GCHandleType.Pinned);
        SKCodecResult result;
        try { result = codec.GetPixels(info, pinned.AddrOfPinnedObject()); }
        finally { pinned.Free(); }
        if (result != SKCodecResult.Success)
            throw new ShiftBenchException($"image {path} cannot be decoded ({result}); replace it with a valid JPEG or PNG file or remove it from the folder");
        var rgb = new byte[width * height * 3];
        for (int i = 0, j = 0; i < rgb.Length; i += 3, j += 4)
        {
            rgb[i] = rgba[j]; rgb[i + 1] = rgba[j + 1]; rgb[i + 2] = rgba[j + 2];
        }
        return (rgb, width, height);
    }

    /// <summary>
    /// torchvision's Resize(size) + CenterCrop(crop) on a PIL image: the shorter side becomes <paramref name="size"/>, the
    /// longer int(size * long / short), with Pillow's BILINEAR (no resize when the size is unchanged); the crop's top is
    /// int(round((height - crop) / 2)) (round half to even), likewise its left. Returns RGB [crop, crop, 3].
    /// </summary>
    public static byte[] ResizeCenterCrop(byte[] rgb, int width, int height, int size, int crop)
    {
        if (crop > size) throw new ArgumentOutOfRangeException(nameof(crop), "crop larger than the resized side");
        bool wide = width > height;
        int shorter = wide ? height : width, longer = wide ? width : height;
        int newLong = (int)((double)size * longer / shorter);
        int newWidth = wide ? newLong : size, newHeight = wide ? size : newLong;
        var resized = PillowResize.Resize(rgb, width, height, 3, newWidth, newHeight);
        int top = (int)Math.Round((newHeight - crop) / 2.0, MidpointRounding.ToEven);
        int left = (int)Math.Round((newWidth - crop) / 2.0, MidpointRounding.ToEven);
        var result = new byte[crop * crop * 3];
        for (int y = 0; y < crop; y++)
            Array.Copy(resized, ((top + y) * newWidth + left) * 3, result, y * crop * 3, crop * 3);
        return result;
    }
}
