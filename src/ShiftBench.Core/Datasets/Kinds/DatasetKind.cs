using static TorchSharp.torch;

namespace ShiftBench.Datasets.Kinds;

/// <summary>
/// One kind of shift dataset (a config's `kind:`): what its section of the config must hold, its geometry, the unit
/// of its offsets, whether its shifts wrap, what the report page shows for it and whether exact reuse applies. A new
/// kind is one subclass plus its line in <see cref="DatasetKinds"/>; the config check, `dataset show`, the report and
/// reuse ask the kind, never its name. (The images themselves are made by <see cref="ShiftDataset"/>.)
/// </summary>
public abstract class DatasetKind
{
    /// <summary>The config's `kind:` value.</summary>
    public abstract string Name { get; }

    /// <summary>Checks the kind's own fields (the common ones are checked already): one ShiftBenchException naming the field and the fix.</summary>
    public abstract void Validate(DatasetConfig config);

    /// <summary>Whether the object is laid over the canvas (canvas.color or canvas.image apply; the colour defaults to white).</summary>
    public virtual bool OnCanvas => false;

    /// <summary>Source image file names read from the data directory.</summary>
    public abstract IReadOnlyList<string> SourceFiles(DatasetConfig config);

    /// <summary>
    /// Loads the sources (full paths, in <see cref="SourceFiles"/> order) onto the device and makes the dataset's images;
    /// <paramref name="normalise"/> maps 8-bit values [N,3,H,W] to network input, for images kept pre-normalised.
    /// </summary>
    public abstract ShiftImages OpenImages(DatasetConfig config, IReadOnlyList<string> sourcePaths, Device device, Func<Tensor, Tensor> normalise);

    /// <summary>Largest offset along each axis, in grid units.</summary>
    public abstract int Room(DatasetConfig config);

    /// <summary>Pixels per unit of grid offset (1 unless the kind's offsets count fractions of a pixel).</summary>
    public virtual double OffsetUnitPx(DatasetConfig config) => 1.0;

    /// <summary>
    /// Which way the image content moves when the position grows: +1 when the content itself moves (a patch, a roll),
    /// -1 when a window moves over a fixed scene (a crop).
    /// </summary>
    public virtual int ContentDirection => 1;

    /// <summary>Whether the shifts wrap around (an anchor's feature map is rolled rather than cut).</summary>
    public virtual bool IsCircular => false;

    /// <summary>Whether exact reuse (docs/reuse.md) covers the kind at all.</summary>
    public virtual bool ExactReuse => false;

    /// <summary>The reuse methods that apply to an opened dataset of this kind (empty where <see cref="ExactReuse"/> is false).</summary>
    public virtual IReadOnlyList<string> ReuseMethods(ShiftDataset dataset) => [];

    /// <summary>`dataset show`'s geometry line (after "geometry:").</summary>
    public abstract string Geometry(DatasetConfig config);

    /// <summary>`dataset show`'s offsets line (after "offsets:").</summary>
    public virtual string OffsetsText(DatasetConfig config, int stride) => $"0..{config.Room} px, stride {stride}";

    /// <summary>How the report page draws the kind's image at a position; null: it draws none (<see cref="Preview"/> is null).</summary>
    public virtual PreviewDraw? Draw => null;

    /// <summary>
    /// What the report page draws at a position, from run.json's dataset section; null when the page draws no image
    /// for the kind (it shows <see cref="NoImageCaption"/> instead).
    /// </summary>
    public virtual DatasetView? Preview(RunDatasetSection section) => null;

    /// <summary>The two lines the report page writes in place of an image the page does not draw.</summary>
    public virtual IReadOnlyList<string> NoImageCaption => [Name + " shift:", "no image (dataset render)"];

    public override string ToString() => Name;
}
