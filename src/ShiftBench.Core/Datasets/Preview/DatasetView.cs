using System.Text.Json;
using ShiftBench.Output;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ShiftBench.Datasets;

/// <summary>8-bit RGBA pixels, row-major, 4 bytes per pixel.</summary>
public sealed record RgbaImage(byte[] Rgba, int Width, int Height);

/// <summary>
/// Loads an image file and resizes it to width x height with the dataset's resize_method (`opencv` or
/// `bilinear`). The report takes it as a parameter; the default is the dataset code's own resize
/// (<see cref="DatasetView.DatasetResize"/>), so the page shows what the run computed.
/// </summary>
public delegate RgbaImage ResizeSource(string imagePath, int width, int height, string resizeMethod);

/// <summary>
/// How the report page (report.html renderView) draws a dataset's image at position (y, x): `composite` blends the
/// resized source (RGBA) over the canvas colour or image with its top-left at (y, x), as ShiftDataset composites a patch;
/// `window` is the canvas-sized window at (y, x) of the resized source, as a crop.
/// </summary>
public enum PreviewDraw { Composite, Window }

/// <summary>
/// The geometry of one dataset as run.json records it, with its resized sources: what the report page needs
/// to draw the exact image the network saw at any position, made by the kind's <see cref="Datasets.Kinds.DatasetKind.Preview"/>
/// (<see cref="PreviewDraw"/> says how the page draws it). The report's JavaScript repeats the
/// datasets' compositing (ShiftDataset.Render8Bit) operation for operation (float64 arithmetic); tests check
/// the page's pixels against `dataset render`.
/// </summary>
public sealed class DatasetView
{
    public required string Name { get; init; }
    public required string Kind { get; init; }
    /// <summary>How the page draws the image at a position from <see cref="Source"/> (and the canvas).</summary>
    public required PreviewDraw Draw { get; init; }
    public required int CanvasSize { get; init; }
    public (byte R, byte G, byte B) CanvasColor { get; init; } = (255, 255, 255);
    /// <summary>Canvas picture (patch kind with canvas.image), resized to CanvasSize.</summary>
    public RgbaImage? CanvasImage { get; init; }
    /// <summary>The resized patch (patch kind) or resized source (crop kind).</summary>
    public required RgbaImage Source { get; init; }

    /// <summary>Builds the view from run.json's "dataset" section, finding source files by their recorded path, else in dataDirs.</summary>
    public static DatasetView FromRunJson(RunDataset dataset, IEnumerable<string> dataDirs, ResizeSource resize)
    {
        string name = dataset.Name;
        if (dataset.Config is not { ValueKind: JsonValueKind.Object } config)
            throw new ShiftBenchException($"run.json of dataset '{name}': field dataset.config is missing");
        var dirs = dataDirs.ToList();

        var section = new RunDatasetSection(dataset.Sources ?? [], config, name, dirs, resize);
        return Datasets.Kinds.DatasetKinds.Find(section.Kind)?.Preview(section)
            ?? throw new ShiftBenchException($"{section.Where("kind")} is '{section.Kind}': the report knows {string.Join(" and ", Datasets.Kinds.DatasetKinds.All.Where(d => d.Draw is not null).Select(d => $"'{d.Name}'"))}");
    }

    /// <summary>run.json "sources" path if it still exists, else the file name in the data folders; checks the recorded SHA-256.</summary>
    internal static string Locate(IReadOnlyList<RunSource> sources, string file, List<string> dataDirs, string name)
    {
        var recorded = sources.LastOrDefault(s => s.File == file);
        string? recordedPath = recorded?.Path, sha = recorded?.Sha256;
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
