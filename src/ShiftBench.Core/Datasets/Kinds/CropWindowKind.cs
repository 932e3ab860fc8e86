using TorchSharp;
using static TorchSharp.torch;

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

    public override ShiftImages OpenImages(DatasetConfig config, IReadOnlyList<string> sourcePaths, Device device, Func<Tensor, Tensor> normalise) =>
        new CropImages(config, sourcePaths[0], device, normalise);

    /// <summary>The window moves over the scene, so the content moves the other way.</summary>
    public override int ContentDirection => -1;

    public override bool ExactReuse => true;

    public override IReadOnlyList<string> ReuseMethods(ShiftDataset dataset) => [ReuseMethodNames.CropPhase];

    public override string Geometry(DatasetConfig config) =>
        $"{config.Canvas.Size}x{config.Canvas.Size} crops of {config.Source} resized to {config.Resize}x{config.Resize}";

    public override PreviewDraw? Draw => PreviewDraw.Window;

    public override DatasetView Preview(RunDatasetSection section) => new()
    {
        Name = section.Name, Kind = Name, Draw = PreviewDraw.Window, CanvasSize = section.CanvasSize,
        Source = section.Load(section.Str(section.Config, "source", "source"), section.Size(section.Config, "resize", "resize", InputLimits.MaxResize)),
    };
}

/// <summary>Kind crop's images: windows of the resized source (8-bit values as float32 [3,R,R]), also kept normalised.</summary>
sealed class CropImages : ShiftImages
{
    readonly Tensor source, normalisedSource;
    readonly int size;

    public CropImages(DatasetConfig config, string sourcePath, Device device, Func<Tensor, Tensor> normalise)
    {
        size = config.Canvas.Size;
        int side = config.Resize!.Value;
        using var scope = NewDisposeScope();
        using var raw = SourceImage.LoadRgba(sourcePath);
        source = SourceImage.Resize8Bit(raw, side, side, config.ResizeMethod)[..3].contiguous().to(device).MoveToOuterDisposeScope();
        normalisedSource = normalise(source.unsqueeze(0)).squeeze(0).MoveToOuterDisposeScope();
    }

    public override Tensor Render8Bit(int y, int x) => source[.., y..(y + size), x..(x + size)].clone();

    public override Tensor WindowSource => normalisedSource;

    public override void Dispose()
    {
        source.Dispose(); normalisedSource.Dispose();
    }
}
