namespace ShiftBench.Datasets.Kinds;

/// <summary>
/// Kind `subpixel`: the centre crop shifted circularly by multiples of `step` pixels (fourier or bilinear), up to
/// `range` pixels; grid offsets count steps.
/// </summary>
public sealed class SubpixelShiftKind : CircularShiftKind
{
    public const string KindName = "subpixel";
    public override string Name => KindName;

    protected override void ValidateShift(DatasetConfig config)
    {
        string at = config.ConfigPath;
        var (step, range, methods) = (config.Step, config.Range, DatasetConfig.SubpixelMethods);
        if (config.MaxShift is not null) throw new ShiftBenchException($"{at}: max_shift belongs to kind 'roll'; kind 'subpixel' takes range");
        if (step is null) throw new ShiftBenchException($"{at}: kind 'subpixel' needs step (the shift step in pixels, e.g. 0.25)");
        if (!(step > 0) || !double.IsFinite(step.Value)) throw new ShiftBenchException($"{at}: step {step} must be a positive number of pixels, e.g. 0.25");
        if (range is null) throw new ShiftBenchException($"{at}: kind 'subpixel' needs range (the largest shift in pixels, e.g. 2)");
        if (!(range >= 0) || !double.IsFinite(range.Value)) throw new ShiftBenchException($"{at}: range {range} must be 0 or more pixels");
        double steps = range.Value / step.Value;
        if (Math.Abs(steps - Math.Round(steps)) > 1e-9 * Math.Max(1, steps))
            throw new ShiftBenchException($"{at}: range {range} is not a whole number of steps of {step}; make it a multiple of step");
        if (range >= config.Canvas.Size)
            throw new ShiftBenchException($"{at}: range {range} must be smaller than canvas.size {config.Canvas.Size} (larger shifts repeat)");
        if (config.Method is null) throw new ShiftBenchException($"{at}: kind 'subpixel' needs method ({string.Join(" or ", methods)})");
        if (!methods.Contains(config.Method))
            throw new ShiftBenchException($"{at}: method '{config.Method}' is unknown; use {string.Join(" or ", methods)}");
        if (range.Value / step.Value + 1 > InputLimits.MaxOffsetsPerAxis)
            throw new ShiftBenchException($"{at}: range {range} / step {step} gives more than {InputLimits.MaxOffsetsPerAxis} offsets per axis; make step larger or range smaller");
    }

    public override int Room(DatasetConfig config) => (int)Math.Round(config.Range!.Value / config.Step!.Value);

    /// <summary>Offsets count steps (offset i = a shift of i * step pixels), so every grid keeps whole-number y,x.</summary>
    public override double OffsetUnitPx(DatasetConfig config) => config.Step!.Value;

    public override string Geometry(DatasetConfig config) => $"{CentreCrop(config)}, shifted circularly by {config.Method} in steps of {config.Step} px";

    public override string OffsetsText(DatasetConfig config, int stride) =>
        $"0..{config.Room} steps of {config.Step} px (0..{config.Range} px), stride {stride} steps";
}
