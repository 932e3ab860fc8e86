using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Datasets;

/// <summary>
/// The shifted images of one dataset, made in batches as tensors on the compute device (no files).
/// Positions are grid offsets (y, x), whose meaning the kind gives (Kinds/: the patch's top-left corner, the crop
/// window's, a circular shift in pixels or in steps), on a grid with the given stride, enumerated y-major.
/// The kind's <see cref="Kinds.ShiftImages"/> make the images; this class owns the grid, normalisation and batches.
/// </summary>
public sealed class ShiftDataset : IDisposable
{
    // The kind's images (Kinds/): how a position's image is made.
    readonly Kinds.ShiftImages kindImages;
    readonly Tensor mean, std;

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
        Offsets = config.Offsets(stride);
        Sources = config.SourceFiles.Select(f => (f, SourceImage.Locate(dataDir, f))).ToList();
        using (var scope = NewDisposeScope())
        {
            mean = tensor(meanValues.ToArray(), ScalarType.Float32).view(1, 3, 1, 1).to(device).MoveToOuterDisposeScope();
            std = tensor(stdValues.ToArray(), ScalarType.Float32).view(1, 3, 1, 1).to(device).MoveToOuterDisposeScope();
        }
        try { kindImages = config.KindType.OpenImages(config, [.. Sources.Select(s => s.Path)], device, Normalise); }
        catch { mean.Dispose(); std.Dispose(); throw; }
    }

    /// <summary>The exact 8-bit image (values 0..255 as float32 [3,S,S]) seen at pixel offset (y, x).</summary>
    public Tensor Render8Bit(int y, int x)
    {
        int room = Config.Room;
        if (y < 0 || x < 0 || y > room || x > room)
            throw new ShiftBenchException($"position {y},{x} is outside dataset '{Config.Name}': y and x must be within 0..{room}");
        using var scope = NewDisposeScope();
        return kindImages.Render8Bit(y, x).MoveToOuterDisposeScope();
    }

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
    /// exact reuse; null when there is none (the kind's <see cref="Kinds.ShiftImages.WindowSource"/>: kind crop's resized
    /// source, kind patch's grown uniform canvas).
    /// </summary>
    internal Tensor? WindowSource => kindImages.WindowSource;

    /// <summary>Top-left corner in <see cref="WindowSource"/> of the window that is position <paramref name="index"/>'s image.</summary>
    internal (int Y, int X) WindowOrigin(int index)
    {
        var (y, x) = PositionAt(index);
        return kindImages.WindowOrigin(y, x);
    }

    /// <summary>Kind patch: the patch's height and width in pixels.</summary>
    internal (int H, int W)? PatchSize => kindImages.PatchSize;

    /// <summary>Kind patch: the normalised canvas without the patch, [1,3,S,S], made by the same arithmetic as a batch.</summary>
    internal Tensor BlankCanvas() => kindImages.BlankCanvas();

    Tensor Normalise(Tensor images8) => images8.div(255f).sub_(mean).div_(std);

    public void Dispose()
    {
        kindImages.Dispose();
        mean.Dispose(); std.Dispose();
    }
}
