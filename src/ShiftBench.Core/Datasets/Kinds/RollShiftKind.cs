using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Datasets.Kinds;

/// <summary>Kind `roll`: the centre crop rolled circularly by whole pixels, up to max_shift along each axis.</summary>
public sealed class RollShiftKind : CircularShiftKind
{
    public const string KindName = "roll";
    public override string Name => KindName;

    protected override void ValidateShift(DatasetConfig config)
    {
        string at = config.ConfigPath;
        if (config.Step is not null || config.Range is not null || config.Method is not null)
            throw new ShiftBenchException($"{at}: step, range and method belong to kind 'subpixel'; kind 'roll' takes max_shift");
        if (config.MaxShift is < 0 || config.MaxShift >= config.Canvas.Size)
            throw new ShiftBenchException($"{at}: max_shift {config.MaxShift} must be within 0..{config.Canvas.Size - 1} (canvas.size - 1; larger shifts repeat)");
    }

    public override int Room(DatasetConfig config) => config.MaxShift ?? config.Canvas.Size - 1;

    public override ShiftImages OpenImages(DatasetConfig config, IReadOnlyList<string> sourcePaths, Device device, Func<Tensor, Tensor> normalise) =>
        new RollImages(config, sourcePaths[0], device);

    sealed class RollImages(DatasetConfig config, string sourcePath, Device device) : CircularImages(config, sourcePath, device)
    {
        public override Tensor Render8Bit(int y, int x) => circular.roll([y, x], [1, 2]).to(ScalarType.Float32);
    }

    public override string Geometry(DatasetConfig config) => $"{CentreCrop(config)}, rolled circularly";
}
