using static TorchSharp.torch;

namespace ShiftBench.Datasets.Kinds;

/// <summary>
/// The images of one opened dataset, made by its kind (<see cref="DatasetKind.OpenImages"/>) on the compute device:
/// the exact 8-bit image at any grid offset, and for exact reuse the normalised image every position is a window of.
/// <see cref="ShiftDataset"/> owns the grid, the normalisation and the batches.
/// </summary>
public abstract class ShiftImages : IDisposable
{
    /// <summary>The exact 8-bit image (values 0..255 as float32 [3,S,S]) at grid offset (y, x), already checked to be on the grid's room.</summary>
    public abstract Tensor Render8Bit(int y, int x);

    /// <summary>
    /// The normalised image [3,R,R] that every position's image is an S x S window of (at <see cref="WindowOrigin"/>),
    /// for exact reuse and fast batches; null when there is none.
    /// </summary>
    public virtual Tensor? WindowSource => null;

    /// <summary>Top-left corner in <see cref="WindowSource"/> of the window that is the image at grid offset (y, x).</summary>
    public virtual (int Y, int X) WindowOrigin(int y, int x) => (y, x);

    /// <summary>Patch kinds: the patch's height and width in pixels (exact reuse's patch method); null for other kinds.</summary>
    public virtual (int H, int W)? PatchSize => null;

    /// <summary>Patch kinds: the normalised canvas without the patch, [1,3,S,S], made by the same arithmetic as a batch.</summary>
    public virtual Tensor BlankCanvas() => throw new InvalidOperationException("this dataset kind has no canvas");

    public abstract void Dispose();
}
