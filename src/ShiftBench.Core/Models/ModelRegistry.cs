using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Models;

/// <summary>
/// The zoo: model name + variant -> builder, published weight file and layer taps.
/// Like torchvision's registry: one line per network, builders live in one file per architecture.
/// </summary>
public static class ModelRegistry
{
    const string TorchvisionBase = "https://download.pytorch.org/models/";
    const string AntialiasedBase = "https://antialiased-cnns.s3.us-east-2.amazonaws.com/weights_v0.1/";

    // AlexNet and VGG16 share torchvision's classifier layout: [Dropout?, Linear, ReLU, Dropout, Linear, ReLU, Linear].
    static readonly LayerTap[] AlexNetTaps =
    [
        new("pool", "classifier.0", TapPoint.Input),
        new("fc6", "classifier.1"), new("fc6relu", "classifier.2"),
        new("fc7", "classifier.4"), new("fc7relu", "classifier.5"),
    ];

    static readonly LayerTap[] Vgg16Taps =
    [
        new("pool", "classifier.0", TapPoint.Input),
        new("fc6", "classifier.0"), new("fc6relu", "classifier.1"),
        new("fc7", "classifier.3"), new("fc7relu", "classifier.4"),
    ];

    static readonly LayerTap[] ResNet50Taps = [new("pool", "fc", TapPoint.Input)];
    // torchvision's classifier.0 is Dropout, the antialiased one's is the Linear: both receive the pooled features.
    static readonly LayerTap[] MobileNetV2Taps = [new("pool", "classifier.0", TapPoint.Input)];

    const int StudyFilterSize = 5;

    public static readonly IReadOnlyList<ModelEntry> All =
    [
        Torchvision("alexnet", "alexnet-owt-7be5be79.pth", AlexNetTaps, () => torchvision.models.alexnet()),
        Torchvision("vgg16", "vgg16-397923af.pth", Vgg16Taps, () => torchvision.models.vgg16()),
        Torchvision("resnet50", "resnet50-0676ba61.pth", ResNet50Taps, () => torchvision.models.resnet50()),
        Torchvision("mobilenet_v2", "mobilenet_v2-b0353104.pth", MobileNetV2Taps, () => torchvision.models.mobilenet_v2()),
        Antialiased("alexnet", StudyFilterSize, "alexnet_lpf5-4fa3706a.pth", AlexNetTaps, () => new AntialiasedAlexNet(StudyFilterSize)),
        Antialiased("vgg16", StudyFilterSize, "vgg16_lpf5-1391f70c.pth", Vgg16Taps, () => new AntialiasedVgg16(StudyFilterSize)),
        Antialiased("resnet50", StudyFilterSize, "resnet50_lpf5-9953c9ad.pth", ResNet50Taps, () => new AntialiasedResNet50(StudyFilterSize)),
        Antialiased("mobilenet_v2", StudyFilterSize, "mobilenet_v2_lpf5-ab8fe968.pth", MobileNetV2Taps, () => new AntialiasedMobileNetV2(StudyFilterSize)),
    ];

    public static IEnumerable<string> ModelNames => All.Select(e => e.Model).Distinct();

    /// <summary>Looks a network up; unknown names are a user error listing the valid ones.</summary>
    public static ModelEntry Find(string model, ModelVariant variant)
    {
        var byName = All.Where(e => e.Model.Equals(model, StringComparison.OrdinalIgnoreCase)).ToList();
        if (byName.Count == 0)
            throw new ShiftBenchException($"unknown model '{model}' (--model): choose one of {string.Join(", ", ModelNames)}");
        return byName.FirstOrDefault(e => e.Variant == variant)
            ?? throw new ShiftBenchException($"model '{model}' has no {variant.ToString().ToLowerInvariant()} variant yet");
    }

    public static ModelVariant ParseVariant(string text) => text.ToLowerInvariant() switch
    {
        "torchvision" => ModelVariant.Torchvision,
        "antialiased" => ModelVariant.Antialiased,
        _ => throw new ShiftBenchException($"unknown variant '{text}' (--variant): use torchvision, antialiased or both"),
    };

    static ModelEntry Torchvision(string model, string file, LayerTap[] taps, Func<nn.Module<Tensor, Tensor>> build) =>
        new(model, ModelVariant.Torchvision, FilterSize: 1, file, TorchvisionBase + file, Sha256PrefixOf(file), 224, taps, InEvalMode(build)) { DefaultBatchSize = BatchSizeFor(model) };

    internal static ModelEntry Antialiased(string model, int filterSize, string file, LayerTap[] taps, Func<nn.Module<Tensor, Tensor>> build) =>
        new(model, ModelVariant.Antialiased, filterSize, file, AntialiasedBase + file, Sha256PrefixOf(file), 224, taps, InEvalMode(build)) { DefaultBatchSize = BatchSizeFor(model) };

    /// <summary>
    /// Fastest batch per model on the 2-core reference machine (`shiftbench bench --batch-size N`): small
    /// batches keep MobileNetV2's and ResNet50's activations in cache.
    /// </summary>
    static int BatchSizeFor(string model) => model switch
    {
        "mobilenet_v2" => 4,
        "resnet50" or "vgg16" => 8,
        "alexnet" => 32,
        _ => 16,
    };

    /// <summary>Built models start in eval mode (Dropout off, batch-norm running statistics), ready for inference.</summary>
    static Func<nn.Module<Tensor, Tensor>> InEvalMode(Func<nn.Module<Tensor, Tensor>> build) => () =>
    {
        var model = build();
        model.eval();
        return model;
    };

    /// <summary>Published files carry the first 8 hex digits of their SHA-256 after the last '-'.</summary>
    static string Sha256PrefixOf(string file) => Path.GetFileNameWithoutExtension(file).Split('-')[^1];
}
