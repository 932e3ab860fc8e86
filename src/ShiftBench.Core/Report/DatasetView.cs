using System.Text.Json;
using ShiftBench.Output;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ShiftBench.Report;

/// <summary>8-bit RGBA pixels, row-major, 4 bytes per pixel.</summary>
public sealed record RgbaImage(byte[] Rgba, int Width, int Height);

/// <summary>
/// Loads an image file and resizes it to width x height with the dataset's resize_method (`opencv` or
/// `bilinear`). The report takes it as a parameter; the default is the dataset code's own resize
/// (<see cref="DatasetView.DatasetResize"/>), so the page shows what the run computed.
/// </summary>
public delegate RgbaImage ResizeSource(string imagePath, int width, int height, string resizeMethod);

/// <summary>
/// The geometry of one dataset as run.json records it, with its resized sources: what the report page needs
/// to draw the exact image the network saw at any position. Patch kind = alpha blend of the resized patch over the canvas with its top-left at (y, x);
/// crop kind = the canvas-sized window at (y, x) of the resized source. The report's JavaScript repeats the
/// datasets' compositing (ShiftDataset.Render8Bit) operation for operation (float64 arithmetic); tests check
/// the page's pixels against `dataset render`.
/// </summary>
public sealed class DatasetView
{
    public required string Name { get; init; }
    public required string Kind { get; init; }   // "patch" or "crop"
    public required int CanvasSize { get; init; }
    public (byte R, byte G, byte B) CanvasColor { get; init; } = (255, 255, 255);
    /// <summary>Canvas picture (patch kind with canvas.image), resized to CanvasSize.</summary>
    public RgbaImage? CanvasImage { get; init; }
    /// <summary>The resized patch (patch kind) or resized source (crop kind).</summary>
    public required RgbaImage Source { get; init; }

    /// <summary>Builds the view from run.json's "dataset" section, finding source files by their recorded path, else in dataDirs.</summary>
    public static DatasetView FromRunJson(JsonElement dataset, IEnumerable<string> dataDirs, ResizeSource resize)
    {
        string name = dataset.TryGetProperty("name", out var n) ? n.GetString() ?? "?" : "?";
        if (!dataset.TryGetProperty("config", out var config) || config.ValueKind != JsonValueKind.Object)
            throw new ShiftBenchException($"run.json of dataset '{name}': field dataset.config is missing");
        var dirs = dataDirs.ToList();

        string Where(string field) => $"run.json of dataset '{name}': dataset.config.{field}";
        JsonElement Obj(JsonElement e, string field, string path) =>
            e.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Object ? v : throw new ShiftBenchException($"{Where(path)} is missing");
        int Int(JsonElement e, string field, string path) =>
            e.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : throw new ShiftBenchException($"{Where(path)} is missing or not a number");
        string Str(JsonElement e, string field, string path) =>
            e.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new ShiftBenchException($"{Where(path)} is missing or not a string");
        // Sizes as a dataset config may hold them (InputLimits): a run.json is read from disk like any input.
        int Size(JsonElement e, string field, string path, int limit) =>
            Int(e, field, path) is var v && v is >= 1 && v <= limit ? v
            : throw new ShiftBenchException($"{Where(path)} is {v}: it must be 1..{limit} pixels; rerun that run or delete the folder");
        string kind = Str(config, "kind", "kind");
        string method = config.TryGetProperty("resize_method", out var m) ? (m.ValueKind == JsonValueKind.String ? m.GetString()! : m.ToString()) : Datasets.DatasetConfig.UnrecordedResizeMethod;
        if (!Datasets.DatasetConfig.ResizeMethods.Contains(method))
            throw new ShiftBenchException($"{Where("resize_method")} is '{method}': the report knows {string.Join(" and ", Datasets.DatasetConfig.ResizeMethods)}");
        RgbaImage Load(string file, int size) => resize(Locate(dataset, file, dirs, name), size, size, method);

        var canvas = Obj(config, "canvas", "canvas");
        int canvasSize = Size(canvas, "size", "canvas.size", Datasets.InputLimits.MaxCanvasSize);
        switch (kind)
        {
            case "patch":
            {
                var patch = Obj(config, "patch", "patch");
                int patchSize = Size(patch, "size", "patch.size", Datasets.InputLimits.MaxCanvasSize);
                var color = (R: (byte)255, G: (byte)255, B: (byte)255);
                RgbaImage? canvasImage = null;
                if (canvas.TryGetProperty("image", out var img) && img.ValueKind == JsonValueKind.String)
                    canvasImage = Load(img.GetString()!, canvasSize);
                else if (canvas.TryGetProperty("color", out var c) && c.ValueKind == JsonValueKind.Array)
                {
                    var rgb = c.EnumerateArray().Select(v => (byte)v.GetInt32()).ToArray();
                    if (rgb.Length != 3) throw new ShiftBenchException($"{Where("canvas.color")} must be [r, g, b]");
                    color = (rgb[0], rgb[1], rgb[2]);
                }
                return new DatasetView
                {
                    Name = name, Kind = kind, CanvasSize = canvasSize, CanvasColor = color, CanvasImage = canvasImage,
                    Source = Load(Str(patch, "source", "patch.source"), patchSize),
                };
            }
            case "crop":
                return new DatasetView
                {
                    Name = name, Kind = kind, CanvasSize = canvasSize,
                    Source = Load(Str(config, "source", "source"), Size(config, "resize", "resize", Datasets.InputLimits.MaxResize)),
                };
            default:
                throw new ShiftBenchException($"{Where("kind")} is '{kind}': the report knows 'patch' and 'crop'");
        }
    }

    /// <summary>run.json "sources" path if it still exists, else the file name in the data folders; checks the recorded SHA-256.</summary>
    static string Locate(JsonElement dataset, string file, List<string> dataDirs, string name)
    {
        string? recordedPath = null, sha = null;
        if (dataset.TryGetProperty("sources", out var sources) && sources.ValueKind == JsonValueKind.Array)
            foreach (var s in sources.EnumerateArray())
                if (s.TryGetProperty("file", out var f) && f.GetString() == file)
                {
                    recordedPath = s.TryGetProperty("path", out var p) ? p.GetString() : null;
                    sha = s.TryGetProperty("sha256", out var h) ? h.GetString() : null;
                }
        var candidates = new List<string>();
        if (recordedPath is not null) candidates.Add(recordedPath);
        candidates.AddRange(dataDirs.Select(d => Path.Combine(d, file)));
        string found = candidates.FirstOrDefault(File.Exists)
            ?? throw new ShiftBenchException($"dataset '{name}': source image '{file}' not found (looked in {string.Join(", ", candidates)}); pass --data-dir or set SHIFTBENCH_DATA");
        if (sha is not null)
        {
            string actual = FileHash.Sha256(found);
            if (!actual.Equals(sha, StringComparison.OrdinalIgnoreCase))
                throw new ShiftBenchException($"dataset '{name}': {found} has SHA-256 {actual}, but the run used {sha}; point --data-dir at the images the run used");
        }
        return found;
    }

    /// <summary>The datasets' own resize (<see cref="Datasets.SourceImage.Resize8Bit"/>), as RGBA bytes for the page.</summary>
    public static RgbaImage DatasetResize(string imagePath, int width, int height, string resizeMethod)
    {
        using var raw = Datasets.SourceImage.LoadRgba(imagePath);
        using var resized = Datasets.SourceImage.Resize8Bit(raw, height, width, resizeMethod);
        using var hwc = resized.to(TorchSharp.torch.ScalarType.Byte).permute(1, 2, 0).contiguous();
        return new RgbaImage(hwc.data<byte>().ToArray(), width, height);
    }
}
