namespace ShiftBench.Runs.Reuse;

/// <summary>
/// Where `--reuse auto` reuses: per zoo family (<see cref="Models.Families.ArchitectureSpec.Family"/>), the methods
/// measured faster than brute force end to end on the 2-core reference CPU (`bench --reuse on`, README "Exact reuse").
/// Multiply-adds skipped do not predict it: brute-force depthwise convolutions (BlurPool, MobileNetV2) run far below
/// their FLOP rate, so reuse wins big there, while many thin windows of small blocks (MobileNetV2's crop strips,
/// DenseNet's concatenations) cost more than they save. The cost model still picks the method and depth among these.
/// </summary>
public static class ReusePolicy
{
    static readonly Dictionary<string, string[]> MeasuredFaster = new()
    {
        ["alexnet"] = [ReuseEngine.CropMethod, ReuseEngine.PatchMethod],
        ["vgg"] = [ReuseEngine.CropMethod, ReuseEngine.PatchMethod],
        ["resnet"] = [ReuseEngine.CropMethod, ReuseEngine.PatchMethod],
        ["mobilenet_v2"] = [ReuseEngine.PatchMethod],
        ["densenet"] = [],
    };

    /// <summary>The families the table covers (a test checks it covers the zoo).</summary>
    public static IEnumerable<string> Families => MeasuredFaster.Keys;

    /// <summary>The methods `auto` may use for this family; null for a family never measured (the cost model decides).</summary>
    public static IReadOnlyList<string>? AutoMethods(string? family) =>
        family is not null && MeasuredFaster.TryGetValue(family, out var methods) ? methods : null;
}
