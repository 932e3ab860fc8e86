namespace ShiftBench.Runs;

/// <summary>What a staged grid holds, so the side that pictures it can title and scale it.</summary>
public enum StagedGridKind
{
    /// <summary>cos-LAYER-ANCHOR: cosine similarity to the anchor's features.</summary>
    Cosine,
    /// <summary>eq-LAYER-ANCHOR: equivariance distance at the anchor.</summary>
    Equivariance,
    /// <summary>class: probability of the target class.</summary>
    Class,
    /// <summary>A `patches` run's mean grid over its patches (any of the above stems).</summary>
    PatchMean,
    /// <summary>A `patches` run's per-position standard deviation over its patches (the mean's stem + -std).</summary>
    PatchSpread,
}

/// <summary>One grid a run staged as STEM.csv (<see cref="Output.GridCsv"/>); its picture is STEM.png beside it.</summary>
/// <param name="Layer">The layer (cosine and equivariance grids).</param>
/// <param name="Anchor">The anchor's name (cosine and equivariance grids).</param>
/// <param name="CellStride">Equivariance grids: the feature map's cell, in pixels of shift.</param>
public sealed record StagedGrid(string Stem, StagedGridKind Kind, string Layer = "", string Anchor = "", int CellStride = 0);

/// <summary>The grids a run staged in <paramref name="Folder"/>, with the facts their pictures name.</summary>
/// <param name="Stride">Pixels between positions (the pictures' axes).</param>
/// <param name="Patches">A `patches` run: how many patches its mean grids average.</param>
public sealed record StagedGrids(string Folder, RunRequest Request, int Stride, IReadOnlyList<StagedGrid> Grids, int Patches = 0);

/// <summary>
/// Draws a run's pictures from the grid files it staged: the engine computes and writes grids, the reporting side
/// draws them (ShiftBench.Report.RunHeatmaps, which the CLI and the workflows pass in <see cref="RunRequest.Pictures"/>).
/// Called with the job's staging folder before run.json, so the pictures are committed with the grids.
/// </summary>
public interface IRunPictures
{
    /// <summary>Refuses a bottom of the colour scale (--vmin) the pictures cannot use; called before any work.</summary>
    void CheckMinimum(double? vmin);

    void Draw(StagedGrids run);
}
