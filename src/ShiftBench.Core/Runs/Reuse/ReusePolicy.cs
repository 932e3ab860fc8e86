using ShiftBench.Models;

namespace ShiftBench.Runs.Reuse;

/// <summary>
/// Where `--reuse auto` reuses: per zoo family (<see cref="Models.Families.ArchitectureSpec.Family"/>) and form
/// (torchvision, antialiased), the methods measured faster than brute force end to end on the 2-core reference CPU
/// (`bench --reuse on`, README "Exact reuse"). Multiply-adds skipped do not predict it: brute-force depthwise
/// convolutions (BlurPool, MobileNetV2) run far below their FLOP rate, so reuse pays more there, while the strips and
/// windows of small blocks (MobileNetV2, DenseNet's concatenations) can cost more than they save. The cost model still
/// picks the method and the depth among those allowed.
/// </summary>
public static class ReusePolicy
{
    static readonly string[] Both = [ReuseEngine.CropMethod, ReuseEngine.PatchMethod], Patch = [ReuseEngine.PatchMethod], None = [];

    static readonly Dictionary<string, (string[] Torchvision, string[] Antialiased)> MeasuredFaster = new()
    {
        // Speed-ups measured on 2026-11-26 (README "Exact reuse"), stride 4, median of 2-3 rounds, torchvision / antialiased.
        ["alexnet"] = (Both, Both),       // 1.04-1.05x / 1.34-1.82x
        ["vgg"] = (Both, Both),           // 1.90-2.09x / 1.86-2.07x
        ["resnet"] = (Both, Both),        // 1.19-1.22x / 1.25-1.28x
        ["mobilenet_v2"] = (Patch, Both), // torchvision: crop-phase 0.90x, patch-canvas 1.30x
        ["densenet"] = (None, None),      // 0.94x plane, 1.04x berry
    };

    /// <summary>The families the table covers (a test checks it covers the zoo).</summary>
    public static IEnumerable<string> Families => MeasuredFaster.Keys;

    /// <summary>The methods `auto` may use for this network; null for a network the table does not cover (the cost model decides).</summary>
    public static IReadOnlyList<string>? AutoMethods(ModelEntry? model) =>
        model?.Architecture?.Family is { } family && MeasuredFaster.TryGetValue(family, out var methods)
            ? (model.IsAntialiased ? methods.Antialiased : methods.Torchvision)
            : null;
}
