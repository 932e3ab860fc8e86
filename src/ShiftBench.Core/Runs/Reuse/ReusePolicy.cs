using ShiftBench.Datasets.Kinds;
using ShiftBench.Models;

namespace ShiftBench.Runs.Reuse;

/// <summary>
/// Where `--reuse auto` reuses: per zoo family (<see cref="Models.Families.ArchitectureSpec.Family"/>), the methods measured faster than brute force end to end on the 2-core reference CPU
/// (`bench --reuse on`, docs/reuse.md). Multiply-adds skipped do not predict it: brute-force depthwise
/// convolutions (BlurPool, MobileNetV2) run far below their FLOP rate, so reuse pays more there, while the strips and
/// windows of small blocks (MobileNetV2, DenseNet's concatenations) can cost more than they save. The cost model still
/// picks the method and the depth among those allowed.
/// </summary>
public static class ReusePolicy
{
    static readonly string[] Both = [ReuseMethodNames.CropPhase, ReuseMethodNames.PatchCanvas], None = [];

    static readonly Dictionary<string, string[]> MeasuredFaster = new()
    {
        // End-to-end speed-ups, torchvision / antialiased (one entry serves both forms: they agree), on plane and berry at
        // stride 1 with the default batch, median of 2-3 rounds (docs/reuse.md "Measured speed", 2026-11-26, after max pools became
        // strided views and the study's batches grew).
        ["alexnet"] = Both,       // 1.02-1.31x / 1.23-1.32x
        ["vgg"] = Both,           // 2.63-2.75x / 2.52-2.80x
        ["resnet"] = Both,        // 1.32-1.37x / 1.23-1.25x
        ["mobilenet_v2"] = Both,  // crop-phase 1.33-1.36x, patch-canvas 1.85x / 1.55-1.56x (at batch 4: 0.90x / 1.10-1.15x)
        ["densenet"] = None,      // 0.94x plane, 1.04x berry (stride 4, batch 4)
    };

    /// <summary>The families the table covers (a test checks it covers the zoo).</summary>
    public static IEnumerable<string> Families => MeasuredFaster.Keys;

    /// <summary>The methods `auto` may use for this network; null for a network the table does not cover (the cost model decides).</summary>
    public static IReadOnlyList<string>? AutoMethods(ModelEntry? model) =>
        model?.Architecture?.Family is { } family && MeasuredFaster.TryGetValue(family, out var methods) ? methods : null;
}
