using ShiftBench.Models.Families;
using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Models;

/// <summary>
/// The variant names every architecture may have (a variant is named by its weight file):
/// `torchvision`, `antialiased` (the study's choice) and one `antialiased-*` name per published file.
/// </summary>
public static class ModelVariant
{
    public const string Torchvision = "torchvision";
    /// <summary>The study's: filter size 5 trained from scratch, else the filter-4 fine-tuned file.</summary>
    public const string Antialiased = "antialiased";
    public const string FineTunedSuffix = "-finetune";

    /// <summary>`antialiased-lpf5`, `antialiased-lpf4-finetune`, ...</summary>
    public static string Published(int filterSize, bool fineTuned) => $"antialiased-lpf{filterSize}{(fineTuned ? FineTunedSuffix : "")}";
}

/// <summary>Where a named layer is read: a module's output, or the input it receives.</summary>
public enum TapPoint { Output, Input }

/// <summary>
/// A layer read by a hook: the module (dotted state-dict path) whose output or input is recorded, flattened
/// per image, or reduced by <paramref name="Spec"/> (a module-path layer: gap, flat or map).
/// </summary>
public sealed record LayerTap(string Name, string Module, TapPoint Point = TapPoint.Output, LayerSpec? Spec = null);

/// <summary>
/// One network of the zoo: an architecture in one variant, i.e. how to build it and which published
/// weight file it loads. `fc` (the logits) and `class` (softmax of the target class) come from the
/// model's output and are not taps; every other layer name is a tap.
/// </summary>
public sealed record ModelEntry(
    string Model,
    string VariantName,
    int FilterSize,
    string FileName,
    string Url,
    string Sha256Prefix,
    int InputSize,
    IReadOnlyList<LayerTap> Taps,
    Func<nn.Module<Tensor, Tensor>> Build)
{
    /// <summary>Images per forward pass when none is given: measured fastest on a 2-core CPU (`shiftbench bench`).</summary>
    public int DefaultBatchSize { get; init; } = 16;

    /// <summary>The weight file's licence, as published.</summary>
    public string Licence { get; init; } = "";

    /// <summary>Whether the published file holds `{"state_dict": ...}` rather than the bare state dict.</summary>
    public bool WrappedStateDict { get; init; }

    /// <summary>The architecture's main stages (module outputs) in forward order.</summary>
    public IReadOnlyList<LayerTap> Stages { get; init; } = [];

    /// <summary>Family and parameters: builds both forms and maps legacy key names.</summary>
    public ArchitectureSpec? Architecture { get; init; }

    public const string LogitsLayer = "fc";
    public const string ClassLayer = "class";

    /// <summary>All layer names in study order: taps, then fc and class.</summary>
    public IReadOnlyList<string> Layers => [.. Taps.Select(t => t.Name), LogitsLayer, ClassLayer];

    /// <summary>The variant name (kept for code written against the two-variant zoo).</summary>
    public string Variant => VariantName;

    public bool IsAntialiased => VariantName != ModelVariant.Torchvision;

    /// <summary>The name a key of the published file has in this network (older files use older names).</summary>
    public string ModelKey(string fileKey) => Architecture?.RenameLegacyKey(fileKey) ?? fileKey;
}
