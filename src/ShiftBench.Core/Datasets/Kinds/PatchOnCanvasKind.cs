using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

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

    public override ShiftImages OpenImages(DatasetConfig config, IReadOnlyList<string> sourcePaths, Device device, Func<Tensor, Tensor> normalise) =>
        new PatchImages(config, sourcePaths, device, normalise);

    public override bool ExactReuse => true;

    /// <summary>Moving the patch is moving a window over the grown canvas where the canvas is uniform (the cheaper method wins).</summary>
    public override IReadOnlyList<string> ReuseMethods(ShiftDataset dataset) =>
        dataset.WindowSource is null ? [ReuseMethodNames.PatchCanvas] : [ReuseMethodNames.PatchCanvas, ReuseMethodNames.CropPhase];

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

/// <summary>
/// Kind patch's images: the study's compositing of the resized patch over the canvas. On a uniform canvas the colour and
/// the composited patch are also kept normalised (compositing and normalising are per pixel, so pasting normalised
/// pieces gives the same bits), which makes every image a window of one grown canvas.
/// </summary>
sealed class PatchImages : ShiftImages
{
    readonly DatasetConfig config;
    readonly Func<Tensor, Tensor> normalise;
    // Canvas [3,S,S], patch colour [3,h,w] and alpha/255 [1,h,w], all float64 for the study's arithmetic.
    readonly Tensor canvas, patchRgb, patchAlpha;
    readonly Tensor? normalisedColour, normalisedPatch;
    Tensor? patchWindowSource;

    public PatchImages(DatasetConfig config, IReadOnlyList<string> sourcePaths, Device device, Func<Tensor, Tensor> normalise)
    {
        this.config = config;
        this.normalise = normalise;
        int size = config.Canvas.Size;
        using var scope = NewDisposeScope();
        var patchSpec = config.Patch!;
        using var raw = SourceImage.LoadRgba(sourcePaths[0]);
        var patch = SourceImage.Resize8Bit(raw, patchSpec.Size, patchSpec.Size, config.ResizeMethod).to(ScalarType.Float64);
        patchRgb = patch[..3].to(device).MoveToOuterDisposeScope();
        patchAlpha = (patch[3..4] / 255.0).to(device).MoveToOuterDisposeScope();
        Tensor background = config.Canvas.Image is null
            ? tensor(config.Canvas.Color!.Select(c => (double)c).ToArray(), ScalarType.Float64).view(3, 1, 1).expand(3, size, size)
            : SourceImage.Resize8Bit(SourceImage.LoadRgba(sourcePaths[1]), size, size, config.ResizeMethod)[..3].to(ScalarType.Float64);
        canvas = background.contiguous().to(device).MoveToOuterDisposeScope();
        if (config.Canvas.Image is null)
        {
            var colour = canvas[.., ..1, ..1];
            var block = (patchAlpha * patchRgb + (1.0 - patchAlpha) * colour).floor().to(ScalarType.Float32);
            normalisedPatch = normalise(block.unsqueeze(0)).squeeze(0).MoveToOuterDisposeScope();
            normalisedColour = normalise(colour.to(ScalarType.Float32).unsqueeze(0)).squeeze(0).MoveToOuterDisposeScope();
        }
    }

    public override Tensor Render8Bit(int y, int x)
    {
        int h = (int)patchRgb.shape[1], w = (int)patchRgb.shape[2];
        var full = canvas.clone();
        var region = full[.., y..(y + h), x..(x + w)];
        // The study's compositing: a*patch + (1-a)*canvas in float64, truncated to 8-bit.
        var composite = (patchAlpha * patchRgb + (1.0 - patchAlpha) * region).floor();
        region.copy_(composite);
        return full.to(ScalarType.Float32);
    }

    /// <summary>
    /// On a uniform canvas: the canvas grown by the room on the top and left, with the patch at (room, room): moving the
    /// patch by d over a fixed canvas is moving the window by -d over this one.
    /// </summary>
    public override Tensor? WindowSource
    {
        get
        {
            if (normalisedPatch is null) return null;
            if (patchWindowSource is null)
            {
                int room = config.Room, side = config.Canvas.Size + room, h = (int)normalisedPatch.shape[1], w = (int)normalisedPatch.shape[2];
                var grown = normalisedColour!.expand(3, side, side).contiguous();
                grown[.., room..(room + h), room..(room + w)].copy_(normalisedPatch);
                grown.DetachFromDisposeScope(); // made lazily, maybe inside a caller's scope: it lives as long as the dataset
                patchWindowSource = grown;
            }
            return patchWindowSource;
        }
    }

    public override (int Y, int X) WindowOrigin(int y, int x) => (config.Room - y, config.Room - x);

    public override (int H, int W)? PatchSize => ((int)patchRgb.shape[1], (int)patchRgb.shape[2]);

    public override Tensor BlankCanvas()
    {
        int size = config.Canvas.Size;
        if (normalisedColour is not null) return normalisedColour.unsqueeze(0).expand(1, 3, size, size).contiguous();
        return normalise(canvas.to(ScalarType.Float32).unsqueeze(0));
    }

    public override void Dispose()
    {
        canvas.Dispose(); patchRgb.Dispose(); patchAlpha.Dispose();
        normalisedColour?.Dispose(); normalisedPatch?.Dispose(); patchWindowSource?.Dispose();
    }
}
