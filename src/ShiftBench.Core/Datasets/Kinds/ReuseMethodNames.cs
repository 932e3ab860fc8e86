namespace ShiftBench.Datasets.Kinds;

/// <summary>
/// The names of the exact-reuse methods a kind may allow (<see cref="DatasetKind.ReuseMethods"/>). They live with the
/// datasets, below the engine that implements them (Runs.Reuse.ReuseEngine), so a kind never depends upward.
/// </summary>
public static class ReuseMethodNames
{
    /// <summary>Crops of one source: positions that share a phase modulo the network's stride share features.</summary>
    public const string CropPhase = "crop-phase";
    /// <summary>A patch on a uniform canvas: the canvas's features are computed once.</summary>
    public const string PatchCanvas = "patch-canvas";
}
