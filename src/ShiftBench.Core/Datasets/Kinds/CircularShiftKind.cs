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
