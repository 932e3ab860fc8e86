using static TorchSharp.torch;

namespace ShiftBench.Datasets.Kinds;

/// <summary>
/// Kind `patches`: a folder of RGBA patches, each shifted like kind `patch` (<see cref="DatasetConfig.ExpandPatches"/>);
/// the run's grids are averaged over patches, so no single image stands behind a position.
/// </summary>
public sealed class PatchFolderKind : DatasetKind
{
    public const string KindName = "patches";
    public override string Name => KindName;
    public override bool OnCanvas => true;

    public override void Validate(DatasetConfig config)
    {
        if (config.Patches is null || string.IsNullOrWhiteSpace(config.Patches.Folder))
            throw new ShiftBenchException($"{config.ConfigPath}: kind 'patches' needs patches.folder (a folder of RGBA images) and patches.size");
        config.CheckFitsCanvas("patches.size", config.Patches.Size);
    }

    public override IReadOnlyList<string> SourceFiles(DatasetConfig config) => config.Canvas.Image is null ? [] : [config.Canvas.Image];

    public override int Room(DatasetConfig config) => config.Canvas.Size - config.Patches!.Size;

    /// <summary>A `patches` dataset is run patch by patch: each patch is a kind-patch dataset of its own.</summary>
    public override ShiftImages OpenImages(DatasetConfig config, IReadOnlyList<string> sourcePaths, Device device, Func<Tensor, Tensor> normalise) =>
        throw new InvalidOperationException("kind 'patches' is opened patch by patch (DatasetConfig.ExpandPatches)");

    public override string Geometry(DatasetConfig config)
    {
        int side = config.Canvas.Size;
        return $"{config.Patches!.Size}x{config.Patches.Size} patches from {config.Patches.Folder} over a {side}x{side} canvas";
    }

    /// <summary>Each patch's own run (RUN/patches/NAME/) is a dataset of the page with its images.</summary>
    public override IReadOnlyList<string> NoImageCaption => ["mean over patches:", "no single image"];
}
