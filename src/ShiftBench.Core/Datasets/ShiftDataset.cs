using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Datasets;

/// <summary>
/// The shifted images of one dataset, made in batches as tensors on the compute device (no files).
/// Positions are pixel offsets (y, x) of the patch's top-left corner (kind patch), of the crop
/// window (kind crop), the circular shift (kind roll) or the circular shift in steps of `step` pixels
/// (kind subpixel), on a grid with the given stride, enumerated y-major.
/// </summary>
public sealed class ShiftDataset : IDisposable
{
    readonly Device device;
    // kind patch: canvas [3,S,S], patch colour [3,h,w] and alpha/255 [1,h,w], all float64 for the study's arithmetic.
    readonly Tensor? canvas, patchRgb, patchAlpha;
    // kind crop: the resized source, 8-bit values as float32 [3,R,R].
    readonly Tensor? cropSource;
    // kinds roll and subpixel: the centre crop, 8-bit values as float64 [3,S,S]; for fourier its 2-D DFT and frequencies.
    readonly Tensor? circular, circularDft, freqY, freqX;
    readonly Tensor mean, std;
    // Normalised once: the crop source, or for a uniform canvas its colour and the composited patch.
    // Compositing and normalising are per pixel, so pasting normalised pieces gives the same bits.
    readonly Tensor? normalisedSource, normalisedColour, normalisedPatch;

    public DatasetConfig Config { get; }
    public int Stride { get; }
    /// <summary>Offsets along each axis, in pixels: 0, stride, 2*stride, ... up to the room there is.</summary>
    public IReadOnlyList<int> Offsets { get; }
    public int Rows => Offsets.Count;
    public int Cols => Offsets.Count;
    public int Count => Rows * Cols;
    public int ImageSize => Config.Canvas.Size;
    /// <summary>Source files as read: file name in the config and full path.</summary>
    public IReadOnlyList<(string File, string Path)> Sources { get; }

    public (int Y, int X) PositionAt(int index) => (Offsets[index / Cols], Offsets[index % Cols]);

    /// <param name="mean">Per-channel mean (RGB) of the normalisation; default ImageNet's (so is <paramref name="std"/>).</param>
    public static ShiftDataset Open(DatasetConfig config, string dataDir, int? stride = null, Device? device = null,
        IReadOnlyList<double>? mean = null, IReadOnlyList<double>? std = null)
    {
        int step = stride ?? config.Stride;
        if (step < 1) throw new ShiftBenchException($"--stride {step} is invalid: use 1 or more");
        return new ShiftDataset(config, dataDir, step, device ?? CPU, mean ?? ImageNet.Mean, std ?? ImageNet.Std);
    }

    ShiftDataset(DatasetConfig config, string dataDir, int stride, Device device, IReadOnlyList<double> meanValues, IReadOnlyList<double> stdValues)
    {
        Config = config;
        Stride = stride;
        this.device = device;
        Offsets = config.Offsets(stride);
        Sources = config.SourceFiles.Select(f => (f, SourceImage.Locate(dataDir, f))).ToList();
        int size = config.Canvas.Size;

        using (var scope = NewDisposeScope())
        {
            if (config.Kind == DatasetConfig.PatchKind)
            {
                var patchSpec = config.Patch!;
                using var raw = SourceImage.LoadRgba(Sources[0].Path);
                var patch = SourceImage.Resize8Bit(raw, patchSpec.Size, patchSpec.Size, config.ResizeMethod).to(ScalarType.Float64);
                patchRgb = patch[..3].to(device).MoveToOuterDisposeScope();
                patchAlpha = (patch[3..4] / 255.0).to(device).MoveToOuterDisposeScope();
                Tensor background = config.Canvas.Image is null
                    ? tensor(config.Canvas.Color!.Select(c => (double)c).ToArray(), ScalarType.Float64).view(3, 1, 1).expand(3, size, size)
                    : SourceImage.Resize8Bit(SourceImage.LoadRgba(Sources[1].Path), size, size, config.ResizeMethod)[..3].to(ScalarType.Float64);
                canvas = background.contiguous().to(device).MoveToOuterDisposeScope();
            }
            else if (config.Kind == DatasetConfig.CropKind)
            {
                int side = config.Resize!.Value;
                using var raw = SourceImage.LoadRgba(Sources[0].Path);
                cropSource = SourceImage.Resize8Bit(raw, side, side, config.ResizeMethod)[..3].contiguous().to(device).MoveToOuterDisposeScope();
            }
            else
            {
                int side = config.CircularResize, top = (side - size) / 2;
                using var raw = SourceImage.LoadRgba(Sources[0].Path);
                var resized = SourceImage.Resize8Bit(raw, side, side, config.ResizeMethod);
                circular = resized[..3, top..(top + size), top..(top + size)].to(ScalarType.Float64).contiguous().to(device).MoveToOuterDisposeScope();
                if (config.Method == DatasetConfig.FourierMethod)
                {
                    circularDft = fft.fft2(circular).MoveToOuterDisposeScope();
                    freqY = FftFrequencies(size).to(device).MoveToOuterDisposeScope();
                    freqX = FftFrequencies(size).to(device).MoveToOuterDisposeScope();
                }
            }
            mean = tensor(meanValues.ToArray(), ScalarType.Float32).view(1, 3, 1, 1).to(device).MoveToOuterDisposeScope();
            std = tensor(stdValues.ToArray(), ScalarType.Float32).view(1, 3, 1, 1).to(device).MoveToOuterDisposeScope();
            if (cropSource is not null)
                normalisedSource = Normalise(cropSource.unsqueeze(0)).squeeze(0).MoveToOuterDisposeScope();
            else if (patchRgb is not null && config.Canvas.Image is null)
            {
                var colour = canvas![.., ..1, ..1];
                var block = (patchAlpha! * patchRgb! + (1.0 - patchAlpha!) * colour).floor().to(ScalarType.Float32);
                normalisedPatch = Normalise(block.unsqueeze(0)).squeeze(0).MoveToOuterDisposeScope();
                normalisedColour = Normalise(colour.to(ScalarType.Float32).unsqueeze(0)).squeeze(0).MoveToOuterDisposeScope();
            }
        }
    }

    /// <summary>The exact 8-bit image (values 0..255 as float32 [3,S,S]) seen at pixel offset (y, x).</summary>
    public Tensor Render8Bit(int y, int x)
    {
        int room = Config.Room;
        if (y < 0 || x < 0 || y > room || x > room)
            throw new ShiftBenchException($"position {y},{x} is outside dataset '{Config.Name}': y and x must be within 0..{room}");
        using var scope = NewDisposeScope();
        Tensor image;
        if (cropSource is not null)
        {
            image = cropSource[.., y..(y + ImageSize), x..(x + ImageSize)].clone();
        }
        else if (circular is not null)
        {
            image = Config.Kind == DatasetConfig.RollKind ? circular.roll([y, x], [1, 2]).to(ScalarType.Float32) : Subpixel(y, x);
        }
        else
        {
            int h = (int)patchRgb!.shape[1], w = (int)patchRgb.shape[2];
            var full = canvas!.clone();
            var region = full[.., y..(y + h), x..(x + w)];
            // The study's compositing: a*patch + (1-a)*canvas in float64, truncated to 8-bit.
            var composite = (patchAlpha! * patchRgb + (1.0 - patchAlpha!) * region).floor();
            region.copy_(composite);
            image = full.to(ScalarType.Float32);
        }
        return image.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Kind subpixel at grid offset (y, x): a circular shift by (y*step, x*step) pixels, computed in float64 and
    /// rounded half to even to 8-bit (docs/datasets.md defines both methods; tools/fixtures/make_protocol_fixtures.py
    /// is the NumPy reference).
    /// </summary>
    Tensor Subpixel(int y, int x)
    {
        double step = Config.Step!.Value, dy = y * step, dx = x * step;
        Tensor shifted;
        if (circularDft is not null)
        {
            int h = (int)circular!.shape[1], w = (int)circular.shape[2];
            // phase = -2*pi*(ky*dy/H + kx*dx/W); the real part of the inverse DFT is the symmetric Nyquist convention.
            var phase = freqY!.mul(dy).div(h).unsqueeze(1).add(freqX!.mul(dx).div(w).unsqueeze(0)).mul(-2 * Math.PI);
            var ramp = polar(ones_like(phase), phase);
            shifted = fft.ifft2(circularDft.mul(ramp)).real;
        }
        else
        {
            double iy = Math.Floor(dy), ix = Math.Floor(dx), fy = dy - iy, fx = dx - ix;
            Tensor At(double a, double b) => circular!.roll([(long)a, (long)b], [1, 2]);
            var top = At(iy, ix).mul(1 - fx).add(At(iy, ix + 1).mul(fx));
            var bottom = At(iy + 1, ix).mul(1 - fx).add(At(iy + 1, ix + 1).mul(fx));
            shifted = top.mul(1 - fy).add(bottom.mul(fy));
        }
        return shifted.round().clamp(0, 255).to(ScalarType.Float32);
    }

    /// <summary>numpy.fft.fftfreq(n) * n: 0, 1, ..., then the negative frequencies (for even n the Nyquist bin is -n/2).</summary>
    static Tensor FftFrequencies(int n) =>
        tensor(Enumerable.Range(0, n).Select(i => (double)(i <= (n - 1) / 2 ? i : i - n)).ToArray(), ScalarType.Float64);

    /// <summary>Normalised network input for positions [start, start+count): float32 [count,3,S,S] on the device.</summary>
    public Tensor Batch(int start, int count)
    {
        using var scope = NewDisposeScope();
        if (WindowSource is { } source)
        {
            // Windows of pre-normalised pieces: no per-image compositing or arithmetic.
            int size = ImageSize;
            return stack(Enumerable.Range(start, count).Select(i =>
            {
                var (y, x) = WindowOrigin(i);
                return source[.., y..(y + size), x..(x + size)];
            }).ToArray()).MoveToOuterDisposeScope();
        }
        var images = new Tensor[count];
        for (int i = 0; i < count; i++)
        {
            var (y, x) = PositionAt(start + i);
            images[i] = Render8Bit(y, x);
        }
        return Normalise(stack(images)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The normalised image [3,R,R] that every position's image is a window of (S x S at <see cref="WindowOrigin"/>), for
    /// exact reuse; null when there is none. Kind crop: the resized source. Kind patch on a uniform canvas: the canvas
    /// grown by the room on the top and left, with the patch at (room, room): moving the patch by d over a fixed canvas
    /// is moving the window by -d over this one (compositing and normalising are per pixel, so the bits are the same).
    /// </summary>
    internal Tensor? WindowSource
    {
        get
        {
            if (normalisedSource is not null) return normalisedSource;
            if (normalisedPatch is null) return null;
            if (patchWindowSource is null)
            {
                int room = Config.Room, side = ImageSize + room, h = (int)normalisedPatch.shape[1], w = (int)normalisedPatch.shape[2];
                var grown = normalisedColour!.expand(3, side, side).contiguous();
                grown[.., room..(room + h), room..(room + w)].copy_(normalisedPatch);
                grown.DetachFromDisposeScope(); // made lazily, maybe inside a caller's scope: it lives as long as the dataset
                patchWindowSource = grown;
            }
            return patchWindowSource;
        }
    }
    Tensor? patchWindowSource;

    /// <summary>Top-left corner in <see cref="WindowSource"/> of the window that is position <paramref name="index"/>'s image.</summary>
    internal (int Y, int X) WindowOrigin(int index)
    {
        var (y, x) = PositionAt(index);
        return normalisedSource is not null ? (y, x) : (Config.Room - y, Config.Room - x);
    }

    /// <summary>Kind patch: the patch's height and width in pixels.</summary>
    internal (int H, int W)? PatchSize => patchRgb is null ? null : ((int)patchRgb.shape[1], (int)patchRgb.shape[2]);

    /// <summary>Kind patch: the normalised canvas without the patch, [1,3,S,S], made by the same arithmetic as a batch.</summary>
    internal Tensor BlankCanvas()
    {
        int size = ImageSize;
        if (normalisedColour is not null) return normalisedColour.unsqueeze(0).expand(1, 3, size, size).contiguous();
        return Normalise(canvas!.to(ScalarType.Float32).unsqueeze(0));
    }

    Tensor Normalise(Tensor images8) => images8.div(255f).sub_(mean).div_(std);

    public void Dispose()
    {
        canvas?.Dispose(); patchRgb?.Dispose(); patchAlpha?.Dispose(); cropSource?.Dispose();
        circular?.Dispose(); circularDft?.Dispose(); freqY?.Dispose(); freqX?.Dispose();
        mean.Dispose(); std.Dispose();
        normalisedSource?.Dispose(); normalisedColour?.Dispose(); normalisedPatch?.Dispose(); patchWindowSource?.Dispose();
    }
}
