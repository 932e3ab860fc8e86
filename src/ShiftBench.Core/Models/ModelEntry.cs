using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Models;

public enum ModelVariant { Torchvision, Antialiased }

/// <summary>Where a named layer is read: a module's output, or the input it receives.</summary>
public enum TapPoint { Output, Input }

/// <summary>A named feature layer: the module (dotted state-dict path) whose output or input is recorded.</summary>
public sealed record LayerTap(string Name, string Module, TapPoint Point = TapPoint.Output);

/// <summary>
/// One network of the zoo: how to build it and which published weight file it loads.
/// `fc` (the logits) and `class` (softmax of the target class) come from the model's output and are
/// not taps; every other layer name is a tap.
/// </summary>
public sealed record ModelEntry(
    string Model,
    ModelVariant Variant,
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

    public const string LogitsLayer = "fc";
    public const string ClassLayer = "class";

    /// <summary>All layer names in study order: taps, then fc and class.</summary>
    public IReadOnlyList<string> Layers => [.. Taps.Select(t => t.Name), LogitsLayer, ClassLayer];

    public string VariantName => Variant == ModelVariant.Torchvision ? "torchvision" : "antialiased";
}
