using System.Text.RegularExpressions;
using ShiftBench.Models.Families;
using static TorchSharp.torch;

namespace ShiftBench.Models;

/// <summary>One published weight file of an architecture (timm's pretrained config, torchvision's weights enum).</summary>
public sealed record PublishedWeights(string VariantName, int? FilterSize, string FileName, string Url, string Sha256Prefix, string Licence, bool WrappedStateDict);

/// <summary>An architecture of the zoo: family builder + parameters, measured batch size, and its published files.</summary>
public sealed record Architecture(string Name, ArchitectureSpec Spec, int DefaultBatchSize, IReadOnlyList<PublishedWeights> Weights)
{
    /// <summary>The file the study's `antialiased` name stands for: filter 5 from scratch, else the filter-4 fine-tuned one.</summary>
    public PublishedWeights? StudyAntialiased =>
        Weights.FirstOrDefault(w => w.VariantName == ModelVariant.Published(5, false))
        ?? Weights.FirstOrDefault(w => w.VariantName == ModelVariant.Published(4, true));
}

/// <summary>
/// The zoo as data: one line per architecture (family parameters, batch size, published file names);
/// variants, URLs, hash prefixes, filter sizes, licences and layers follow from it. Like timm's registry,
/// <see cref="All"/> and <see cref="Architectures"/> list everything; tests and the asset manifest loop over them.
/// </summary>
public static partial class ModelRegistry
{
    const string TorchvisionBase = "https://download.pytorch.org/models/";
    const string AntialiasedBase = "https://antialiased-cnns.s3.us-east-2.amazonaws.com/weights_v0.1/";
    const string TorchvisionLicence = "BSD-3-Clause (pytorch/vision); trained on ImageNet";
    const string AntialiasedLicence = "CC BY-NC-SA 4.0 (adobe/antialiased-cnns); trained on ImageNet";
    public const int InputSize = 224;

    static readonly ResNetSpec ResNet50Layout = new(ResNetBlock.Bottleneck, [3, 4, 6, 3]);
    static readonly ResNetSpec ResNet101Layout = new(ResNetBlock.Bottleneck, [3, 4, 23, 3]);

    // name, family + parameters, default batch (the fastest `run` on the 2-core reference machine, docs/batch-sizes.md),
    // torchvision IMAGENET1K_V1 file, antialiased files.
    public static readonly IReadOnlyList<Architecture> Architectures =
    [
        Arch("alexnet", new AlexNetSpec(), 64, "alexnet-owt-7be5be79.pth",
            "alexnet_lpf2-da8aca74.pth", "alexnet_lpf3-f9bbc410.pth", "alexnet_lpf4-0114fe25.pth", "alexnet_lpf5-4fa3706a.pth", "alexnet_lpf4_finetune-20598a7a.pth"),
        Arch("vgg11", new VggSpec('A', false), 32, "vgg11-8a719046.pth", "vgg11_lpf4_finetune-35eab449.pth"),
        Arch("vgg13", new VggSpec('B', false), 32, "vgg13-19584684.pth", "vgg13_lpf4_finetune-d8ff02c4.pth"),
        Arch("vgg16", new VggSpec('D', false), 32, "vgg16-397923af.pth",
            "vgg16_lpf2-60268e0c.pth", "vgg16_lpf3-e9b0ce42.pth", "vgg16_lpf4-de9267ac.pth", "vgg16_lpf5-1391f70c.pth", "vgg16_lpf4_finetune-79c9dff7.pth"),
        Arch("vgg19", new VggSpec('E', false), 32, "vgg19-dcbb9e9d.pth", "vgg19_lpf4_finetune-7ab2cf45.pth"),
        Arch("vgg11_bn", new VggSpec('A', true), 32, "vgg11_bn-6002323d.pth", "vgg11_bn_lpf4_finetune-5d60b5e4.pth"),
        Arch("vgg13_bn", new VggSpec('B', true), 32, "vgg13_bn-abd245e5.pth", "vgg13_bn_lpf4_finetune-45e2a72f.pth"),
        Arch("vgg16_bn", new VggSpec('D', true), 32, "vgg16_bn-6c64b313.pth",
            "vgg16_bn_lpf2-2c2052a8.pth", "vgg16_bn_lpf3-1782878a.pth", "vgg16_bn_lpf4-a1c3559b.pth", "vgg16_bn_lpf5-c500b52f.pth", "vgg16_bn_lpf4_finetune-1dd798d1.pth"),
        Arch("vgg19_bn", new VggSpec('E', true), 32, "vgg19_bn-c79401a0.pth", "vgg19_bn_lpf4_finetune-d0114293.pth"),
        Arch("resnet18", new ResNetSpec(ResNetBlock.Basic, [2, 2, 2, 2]), 8, "resnet18-f37072fd.pth",
            "resnet18_lpf2-6e2ee76f.pth", "resnet18_lpf3-449351b9.pth", "resnet18_lpf4-8c77af40.pth", "resnet18_lpf5-c1eed0a1.pth", "resnet18_lpf4_finetune-8cc58f59.pth"),
        Arch("resnet34", new ResNetSpec(ResNetBlock.Basic, [3, 4, 6, 3]), 4, "resnet34-b627a593.pth",
            "resnet34_lpf2-4707aed9.pth", "resnet34_lpf3-16aa6c48.pth", "resnet34_lpf4-55747267.pth", "resnet34_lpf5-85283561.pth", "resnet34_lpf4_finetune-db622952.pth"),
        Arch("resnet50", ResNet50Layout, 16, "resnet50-0676ba61.pth",
            "resnet50_lpf2-f0f7589d.pth", "resnet50_lpf3-a4e868d2.pth", "resnet50_lpf4-994b528f.pth", "resnet50_lpf5-9953c9ad.pth", "resnet50_lpf4_finetune-cad66808.pth"),
        Arch("resnet101", ResNet101Layout, 4, "resnet101-63fe2227.pth",
            "resnet101_lpf2-3d00941d.pth", "resnet101_lpf3-928f1444.pth", "resnet101_lpf4-f8a116ff.pth", "resnet101_lpf5-1f3745af.pth", "resnet101_lpf4_finetune-9280acb0.pth"),
        Arch("resnet152", new ResNetSpec(ResNetBlock.Bottleneck, [3, 8, 36, 3]), 4, "resnet152-394f9c45.pth", "resnet152_lpf4_finetune-7f67d9ae.pth"),
        Arch("resnext50_32x4d", ResNet50Layout with { Groups = 32, WidthPerGroup = 4 }, 4, "resnext50_32x4d-7cdf4587.pth", "resnext50_32x4d_lpf4_finetune-9106e549.pth"),
        Arch("resnext101_32x8d", ResNet101Layout with { Groups = 32, WidthPerGroup = 8 }, 8, "resnext101_32x8d-8ba56ff5.pth", "resnext101_32x8d_lpf4_finetune-8f13a25d.pth"),
        Arch("wide_resnet50_2", ResNet50Layout with { WidthPerGroup = 128 }, 8, "wide_resnet50_2-95faca4d.pth", "wide_resnet50_2_lpf4_finetune-02a183f7.pth"),
        Arch("wide_resnet101_2", ResNet101Layout with { WidthPerGroup = 128 }, 8, "wide_resnet101_2-32ee1156.pth", "wide_resnet101_2_lpf4_finetune-da4eae04.pth"),
        Arch("densenet121", new DenseNetSpec(32, [6, 12, 24, 16], 64), 4, "densenet121-a639ec97.pth",
            "densenet121_lpf2-7da7d4cd.pth", "densenet121_lpf3-0f267ad8.pth", "densenet121_lpf4-edeaab00.pth", "densenet121_lpf5-ebc7880c.pth", "densenet121_lpf4_finetune-eceaa619.pth"),
        Arch("densenet161", new DenseNetSpec(48, [6, 12, 36, 24], 96), 4, "densenet161-8d451a50.pth", "densenet161_lpf4_finetune-a5e0f328.pth"),
        Arch("densenet169", new DenseNetSpec(32, [6, 12, 32, 32], 64), 4, "densenet169-b2777c0a.pth", "densenet169_lpf4_finetune-992131e6.pth"),
        Arch("densenet201", new DenseNetSpec(32, [6, 12, 48, 32], 64), 4, "densenet201-c1103571.pth", "densenet201_lpf4_finetune-736979b2.pth"),
        Arch("mobilenet_v2", new MobileNetV2Spec(), 16, "mobilenet_v2-b0353104.pth",
            "mobilenet_v2_lpf2-f4379012.pth", "mobilenet_v2_lpf3-23b2e2ee.pth", "mobilenet_v2_lpf4-2e0b9cb9.pth", "mobilenet_v2_lpf5-ab8fe968.pth", "mobilenet_v2_lpf4_finetune-7eed94b1.pth"),
    ];

    /// <summary>Every network: per architecture `torchvision`, `antialiased` (the study's file), then each published antialiased file.</summary>
    public static readonly IReadOnlyList<ModelEntry> All = [.. Architectures.SelectMany(Entries)];

    public static IEnumerable<string> ModelNames => Architectures.Select(a => a.Name);

    /// <summary>Every variant name some architecture has, in table order.</summary>
    public static IEnumerable<string> VariantNames => All.Select(e => e.VariantName).Distinct();

    public static Architecture FindArchitecture(string model) =>
        Architectures.FirstOrDefault(a => a.Name.Equals(model, StringComparison.OrdinalIgnoreCase))
        ?? throw new ShiftBenchException($"unknown model '{model}' (--model): choose one of {string.Join(", ", ModelNames)}");

    /// <summary>Looks a network up; unknown names are a user error listing the valid ones.</summary>
    public static ModelEntry Find(string model, string variant)
    {
        var architecture = FindArchitecture(model);
        var name = ParseVariant(variant);
        return All.FirstOrDefault(e => e.Model == architecture.Name && e.VariantName == name)
            ?? throw new ShiftBenchException(
                $"model '{architecture.Name}' has no {name} weights (--variant): it has {string.Join(", ", VariantsOf(architecture.Name))}");
    }

    /// <summary>The variant names of one model, in table order.</summary>
    public static IReadOnlyList<string> VariantsOf(string model) =>
        [.. All.Where(e => e.Model == FindArchitecture(model).Name).Select(e => e.VariantName)];

    /// <summary>A single variant name, checked against the names the zoo knows.</summary>
    public static string ParseVariant(string text)
    {
        var name = text.Trim().ToLowerInvariant();
        if (!VariantNames.Contains(name))
            throw new ShiftBenchException($"unknown variant '{text}' (--variant): use {string.Join(", ", VariantNames)}, both or all");
        return name;
    }

    /// <summary>
    /// The --variant value: comma-separated names, `both` (torchvision and antialiased) and `all` (every
    /// published file of the model once: torchvision and each antialiased-* name; of every model when none).
    /// </summary>
    public static IReadOnlyList<string> ParseVariants(string text, string? model = null)
    {
        var names = new List<string>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            IEnumerable<string> expanded = part.ToLowerInvariant() switch
            {
                "both" => [ModelVariant.Torchvision, ModelVariant.Antialiased],
                "all" => (model is null ? VariantNames : VariantsOf(model)).Where(v => v != ModelVariant.Antialiased),
                _ => [ParseVariant(part)],
            };
            foreach (var name in expanded)
                if (!names.Contains(name)) names.Add(name);
        }
        if (names.Count == 0)
            throw new ShiftBenchException("--variant is empty: use torchvision, antialiased, both, all or a list of variant names");
        return names;
    }

    static Architecture Arch(string name, ArchitectureSpec spec, int batch, string torchvisionFile, params string[] antialiasedFiles) =>
        new(name, spec, batch,
        [
            new(ModelVariant.Torchvision, null, torchvisionFile, TorchvisionBase + torchvisionFile, Sha256PrefixOf(torchvisionFile), TorchvisionLicence, WrappedStateDict: false),
            .. antialiasedFiles.Select(file => AntialiasedWeights(name, file)),
        ]);

    /// <summary>Reads the variant from the published name: `NAME_lpfK-HASH.pth` or `NAME_lpfK_finetune-HASH.pth`.</summary>
    static PublishedWeights AntialiasedWeights(string model, string file)
    {
        var match = AntialiasedFileName().Match(file);
        if (!match.Success || match.Groups["model"].Value != model)
            throw new InvalidOperationException($"{file} is not named like a published antialiased {model} file");
        int filterSize = int.Parse(match.Groups["k"].Value);
        return new(ModelVariant.Published(filterSize, match.Groups["ft"].Success), filterSize, file, AntialiasedBase + file,
            match.Groups["hash"].Value, AntialiasedLicence, WrappedStateDict: true);
    }

    [GeneratedRegex(@"^(?<model>.+)_lpf(?<k>[2-7])(?<ft>_finetune)?-(?<hash>[0-9a-f]{8})\.pth$")]
    private static partial Regex AntialiasedFileName();

    static IEnumerable<ModelEntry> Entries(Architecture a)
    {
        foreach (var w in a.Weights)
        {
            yield return Entry(a, w, w.VariantName);
            if (w.VariantName == ModelVariant.Torchvision && a.StudyAntialiased is { } study)
                yield return Entry(a, study, ModelVariant.Antialiased);
        }
    }

    static ModelEntry Entry(Architecture a, PublishedWeights w, string variantName)
    {
        bool antialiased = w.FilterSize is not null;
        return new(a.Name, variantName, w.FilterSize ?? 1, w.FileName, w.Url, w.Sha256Prefix, InputSize,
            a.Spec.Taps(antialiased), InEvalMode(() => a.Spec.Build(w.FilterSize)))
        {
            DefaultBatchSize = a.DefaultBatchSize,
            Licence = w.Licence,
            WrappedStateDict = w.WrappedStateDict,
            Stages = a.Spec.Stages(antialiased),
            Architecture = a.Spec,
        };
    }

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
