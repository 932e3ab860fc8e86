using TorchSharp;
using static TorchSharp.torch;

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

    public override ShiftImages OpenImages(DatasetConfig config, IReadOnlyList<string> sourcePaths, Device device, Func<Tensor, Tensor> normalise) =>
        new SubpixelImages(config, sourcePaths[0], device);

    /// <summary>Offsets count steps (offset i = a shift of i * step pixels), so every grid keeps whole-number y,x.</summary>
    public override double OffsetUnitPx(DatasetConfig config) => config.Step!.Value;

    public override string Geometry(DatasetConfig config) => $"{CentreCrop(config)}, shifted circularly by {config.Method} in steps of {config.Step} px";

    public override string OffsetsText(DatasetConfig config, int stride) =>
        $"0..{config.Room} steps of {config.Step} px (0..{config.Range} px), stride {stride} steps";
}

/// <summary>
/// Kind subpixel's images at grid offset (y, x): a circular shift by (y*step, x*step) pixels, computed in float64 and
/// rounded half to even to 8-bit (docs/datasets.md defines both methods; tools/fixtures/make_protocol_fixtures.py
/// is the NumPy reference).
/// </summary>
sealed class SubpixelImages : CircularImages
{
    readonly double step;
    // Method fourier: the crop's 2-D DFT and frequencies.
    readonly Tensor? circularDft, freqY, freqX;

    public SubpixelImages(DatasetConfig config, string sourcePath, Device device) : base(config, sourcePath, device)
    {
        step = config.Step!.Value;
        if (config.Method != DatasetConfig.FourierMethod) return;
        int size = config.Canvas.Size;
        using var scope = NewDisposeScope();
        circularDft = fft.fft2(circular).MoveToOuterDisposeScope();
        freqY = FftFrequencies(size).to(device).MoveToOuterDisposeScope();
        freqX = FftFrequencies(size).to(device).MoveToOuterDisposeScope();
    }

    public override Tensor Render8Bit(int y, int x)
    {
        double dy = y * step, dx = x * step;
        Tensor shifted;
        if (circularDft is not null)
        {
            int h = (int)circular.shape[1], w = (int)circular.shape[2];
            // phase = -2*pi*(ky*dy/H + kx*dx/W); the real part of the inverse DFT is the symmetric Nyquist convention.
            var phase = freqY!.mul(dy).div(h).unsqueeze(1).add(freqX!.mul(dx).div(w).unsqueeze(0)).mul(-2 * Math.PI);
            var ramp = polar(ones_like(phase), phase);
            shifted = fft.ifft2(circularDft.mul(ramp)).real;
        }
        else
        {
            double iy = Math.Floor(dy), ix = Math.Floor(dx), fy = dy - iy, fx = dx - ix;
            Tensor At(double a, double b) => circular.roll([(long)a, (long)b], [1, 2]);
            var top = At(iy, ix).mul(1 - fx).add(At(iy, ix + 1).mul(fx));
            var bottom = At(iy + 1, ix).mul(1 - fx).add(At(iy + 1, ix + 1).mul(fx));
            shifted = top.mul(1 - fy).add(bottom.mul(fy));
        }
        return shifted.round().clamp(0, 255).to(ScalarType.Float32);
    }

    /// <summary>numpy.fft.fftfreq(n) * n: 0, 1, ..., then the negative frequencies (for even n the Nyquist bin is -n/2).</summary>
    static Tensor FftFrequencies(int n) =>
        tensor(Enumerable.Range(0, n).Select(i => (double)(i <= (n - 1) / 2 ? i : i - n)).ToArray(), ScalarType.Float64);

    public override void Dispose()
    {
        base.Dispose();
        circularDft?.Dispose(); freqY?.Dispose(); freqX?.Dispose();
    }
}
