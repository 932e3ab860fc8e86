using ShiftBench.Report;
using ShiftBench.Runs.Reuse;

namespace ShiftBench.Datasets.Kinds;

/// <summary>Kind `crop`: the source resized to `resize`, every canvas-sized window (offset = the window's top-left corner).</summary>
public sealed class CropWindowKind : DatasetKind
{
    public const string KindName = "crop";
    public override string Name => KindName;

    public override void Validate(DatasetConfig config)
    {
        string at = config.ConfigPath;
        if (string.IsNullOrWhiteSpace(config.Source)) throw new ShiftBenchException($"{at}: kind 'crop' needs source (an image file)");
        if (config.Resize is null or < 1) throw new ShiftBenchException($"{at}: kind 'crop' needs resize (the side the source is resized to)");
        if (config.Resize < config.Canvas.Size)
            throw new ShiftBenchException($"{at}: resize {config.Resize} is smaller than canvas.size {config.Canvas.Size}; a crop must fit inside the resized source");
    }

    public override IReadOnlyList<string> SourceFiles(DatasetConfig config) => [config.Source!];

    public override int Room(DatasetConfig config) => config.Resize!.Value - config.Canvas.Size;

    /// <summary>The window moves over the scene, so the content moves the other way.</summary>
    public override int ContentDirection => -1;

    public override bool ExactReuse => true;

    public override IReadOnlyList<string> ReuseMethods(ShiftDataset dataset) => [ReuseEngine.CropMethod];

    public override string Geometry(DatasetConfig config) =>
        $"{config.Canvas.Size}x{config.Canvas.Size} crops of {config.Source} resized to {config.Resize}x{config.Resize}";

    public override PreviewDraw? Draw => PreviewDraw.Window;

    public override DatasetView Preview(RunDatasetSection section) => new()
    {
        Name = section.Name, Kind = Name, Draw = PreviewDraw.Window, CanvasSize = section.CanvasSize,
        Source = section.Load(section.Str(section.Config, "source", "source"), section.Size(section.Config, "resize", "resize", InputLimits.MaxResize)),
    };
}
