using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Weights;

/// <summary>Copies a state dict into a module, strictly: every name and shape must match.</summary>
public static class StateDictLoader
{
    /// <summary>How many names one part of the error message lists before "and N more".</summary>
    public const int ListedNames = 8;

    /// <summary>
    /// Copies every entry of <paramref name="stateDict"/> into the parameter or buffer of the same name,
    /// keeping the module's dtype and device. Throws one <see cref="ShiftBenchException"/> listing all
    /// missing keys, unexpected keys and shape mismatches, or every tensor holding NaN or infinite values,
    /// and then changes nothing.
    /// </summary>
    /// <param name="sourceName">The file the state dict came from, for the message.</param>
    /// <param name="modelName">The model, for the message, e.g. "resnet50 (antialiased)"; the module's name if null.</param>
    public static void Load(nn.Module module, IReadOnlyDictionary<string, Tensor> stateDict, string sourceName,
        string? modelName = null)
    {
        var targets = Targets(module);
        var missing = targets.Keys.Where(k => !stateDict.ContainsKey(k)).ToList();
        var unexpected = stateDict.Keys.Where(k => !targets.ContainsKey(k)).ToList();
        var mismatched = stateDict
            .Where(e => targets.TryGetValue(e.Key, out var t) && !t.shape.SequenceEqual(e.Value.shape))
            .Select(e => $"{e.Key} file {Shape(e.Value)} vs model {Shape(targets[e.Key])}")
            .ToList();

        if (missing.Count + unexpected.Count + mismatched.Count > 0)
        {
            var parts = new List<string>();
            if (missing.Count > 0) parts.Add($"missing {Count(missing.Count, "key")} ({Summarise(missing)})");
            if (unexpected.Count > 0) parts.Add($"unexpected {Count(unexpected.Count, "key")} ({Summarise(unexpected)})");
            if (mismatched.Count > 0) parts.Add($"shape mismatch: {Summarise(mismatched)}");
            throw new ShiftBenchException(
                $"{sourceName} does not fit {modelName ?? module.GetName()}: {string.Join("; ", parts)}; " +
                "use the weight file made for this model");
        }

        // A damaged file with NaN or infinite values would otherwise run to the end and fail in the figures.
        var nonFinite = stateDict
            .Where(e => e.Value.is_floating_point() && !isfinite(e.Value).all().item<bool>())
            .Select(e => $"{e.Key} ({isnan(e.Value).sum().item<long>()} NaN, {isinf(e.Value).sum().item<long>()} infinite of {e.Value.numel()})")
            .ToList();
        if (nonFinite.Count > 0)
            throw new ShiftBenchException(
                $"{sourceName} holds non-finite values in {Count(nonFinite.Count, "tensor")}: {Summarise(nonFinite)}; " +
                "the file is damaged: download or export it again");

        using var _ = no_grad();
        foreach (var (name, target) in targets)
            target.copy_(stateDict[name]); // copy_ converts to the target's dtype and device
    }

    /// <summary>The live parameters and buffers, by state-dict name.</summary>
    private static Dictionary<string, Tensor> Targets(nn.Module module)
    {
        var live = new Dictionary<string, Tensor>();
        foreach (var (name, parameter) in module.named_parameters()) live[name] = parameter;
        foreach (var (name, buffer) in module.named_buffers()) live[name] = buffer;
        // state_dict() decides which entries a file must hold (persistent buffers included).
        return module.state_dict().ToDictionary(e => e.Key, e => live.GetValueOrDefault(e.Key) ?? e.Value);
    }

    private static string Shape(Tensor t) => "[" + string.Join(",", t.shape) + "]";

    private static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";

    private static string Summarise(IReadOnlyList<string> items) => items.Count <= ListedNames
        ? string.Join(", ", items)
        : string.Join(", ", items.Take(ListedNames)) + $" and {items.Count - ListedNames} more";
}
