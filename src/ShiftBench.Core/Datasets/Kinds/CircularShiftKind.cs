using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Datasets.Kinds;

/// <summary>
/// Kinds whose images are the source resized to `resize` (default canvas.size), centre-cropped to the canvas and
/// shifted circularly: the shifts wrap around. The report page does not re-render them (`shiftbench dataset render` does).
/// </summary>
public abstract class CircularShiftKind : DatasetKind
{
    public override bool IsCircular => true;

    public sealed override void Validate(DatasetConfig config)
    {
        string at = config.ConfigPath;
        if (string.IsNullOrWhiteSpace(config.Source)) throw new ShiftBenchException($"{at}: kind '{Name}' needs source (an image file)");
        if (config.Resize is < 1) throw new ShiftBenchException($"{at}: resize must be a positive number of pixels (or left out: canvas.size)");
        if (config.CircularResize < config.Canvas.Size)
            throw new ShiftBenchException($"{at}: resize {config.Resize} is smaller than canvas.size {config.Canvas.Size}; the centre crop must fit inside the resized source");
        ValidateShift(config);
    }

    /// <summary>Checks the fields that say how far and how the image shifts.</summary>
    protected abstract void ValidateShift(DatasetConfig config);

    public override IReadOnlyList<string> SourceFiles(DatasetConfig config) => [config.Source!];

    protected static string CentreCrop(DatasetConfig config) =>
        $"{config.Canvas.Size}x{config.Canvas.Size} centre crop of {config.Source} resized to {config.CircularResize}x{config.CircularResize}";
}

/// <summary>The circular kinds' images: the centre crop, 8-bit values as float64 [3,S,S], shifted by the kind.</summary>
abstract class CircularImages : ShiftImages
{
    protected readonly Tensor circular;

    protected CircularImages(DatasetConfig config, string sourcePath, Device device)
    {
        int size = config.Canvas.Size, side = config.CircularResize, top = (side - size) / 2;
        using var scope = NewDisposeScope();
        using var raw = SourceImage.LoadRgba(sourcePath);
        var resized = SourceImage.Resize8Bit(raw, side, side, config.ResizeMethod);
        circular = resized[..3, top..(top + size), top..(top + size)].to(ScalarType.Float64).contiguous().to(device).MoveToOuterDisposeScope();
    }

    public override void Dispose() => circular.Dispose();
}
