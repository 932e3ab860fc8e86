using System.Text.Json;
using ShiftBench.Report;
using ShiftBench.Runs.Reuse;

namespace ShiftBench.Datasets.Kinds;

/// <summary>Kind `patch`: an RGBA patch resized to patch.size, laid over the canvas at every position (offset = its top-left corner).</summary>
public sealed class PatchOnCanvasKind : DatasetKind
{
    public const string KindName = "patch";
    public override string Name => KindName;
    public override bool OnCanvas => true;

    public override void Validate(DatasetConfig config)
    {
        if (config.Patch is null || string.IsNullOrWhiteSpace(config.Patch.Source))
            throw new ShiftBenchException($"{config.ConfigPath}: kind 'patch' needs patch.source (an RGBA image file) and patch.size");
        config.CheckFitsCanvas("patch.size", config.Patch.Size);
    }

    public override IReadOnlyList<string> SourceFiles(DatasetConfig config) =>
        [config.Patch!.Source, .. config.Canvas.Image is null ? Array.Empty<string>() : [config.Canvas.Image]];

    public override int Room(DatasetConfig config) => config.Canvas.Size - config.Patch!.Size;

    public override bool ExactReuse => true;

    /// <summary>Moving the patch is moving a window over the grown canvas where the canvas is uniform (the cheaper method wins).</summary>
    public override IReadOnlyList<string> ReuseMethods(ShiftDataset dataset) =>
        dataset.WindowSource is null ? [ReuseEngine.PatchMethod] : [ReuseEngine.PatchMethod, ReuseEngine.CropMethod];

    public override string Geometry(DatasetConfig config)
    {
        int side = config.Canvas.Size;
        return $"{config.Patch!.Size}x{config.Patch.Size} patch from {config.Patch.Source} over a {side}x{side} canvas ({(config.Canvas.Image ?? "colour " + string.Join(",", config.Canvas.Color!))})";
    }

    public override PreviewDraw? Draw => PreviewDraw.Composite;

    public override DatasetView Preview(RunDatasetSection section)
    {
        var patch = section.Obj(section.Config, "patch", "patch");
        int patchSize = section.Size(patch, "size", "patch.size", InputLimits.MaxCanvasSize);
        var color = (R: (byte)255, G: (byte)255, B: (byte)255);
        RgbaImage? canvasImage = null;
        if (section.Canvas.TryGetProperty("image", out var img) && img.ValueKind == JsonValueKind.String)
            canvasImage = section.Load(img.GetString()!, section.CanvasSize);
        else if (section.Canvas.TryGetProperty("color", out var c) && c.ValueKind == JsonValueKind.Array)
        {
            var rgb = c.EnumerateArray().Select(v => (byte)v.GetInt32()).ToArray();
            if (rgb.Length != 3) throw new ShiftBenchException($"{section.Where("canvas.color")} must be [r, g, b]");
            color = (rgb[0], rgb[1], rgb[2]);
        }
        return new DatasetView
        {
            Name = section.Name, Kind = Name, Draw = PreviewDraw.Composite, CanvasSize = section.CanvasSize, CanvasColor = color, CanvasImage = canvasImage,
            Source = section.Load(section.Str(patch, "source", "patch.source"), patchSize),
        };
    }
}
