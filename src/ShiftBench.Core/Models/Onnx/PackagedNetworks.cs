using System.Reflection;

namespace ShiftBench.Models.Onnx;

/// <summary>A named layer of a packaged network and the graph tensor it reads (a 4-D map is pooled unless written NAME@map).</summary>
public sealed record PackagedLayer(string Name, string Tensor);

/// <summary>
/// A pretrained network shipped as ONNX files in a NuGet package that the build restores and copies beside the
/// assembly (models/NAME/, see ShiftBench.Core.csproj), so it runs with no internet: the network, the preprocessing
/// graph that feeds it (see <see cref="MeanImage"/>), its named layers and stages. It runs through ONNX Runtime as
/// `--model PATH.onnx` does, under its own name, and has no classifier (no fc, no class).
/// </summary>
public sealed record PackagedNetwork(
    string Name,
    string Package,
    string Licence,
    string NetworkFile,
    string NetworkSha256,
    string PreprocessFile,
    string PreprocessSha256,
    IReadOnlyList<PackagedLayer> Named,
    IReadOnlyList<PackagedLayer> Stages)
{
    /// <summary>Where the build put the package's files.</summary>
    public string Folder => Path.Combine(AppContext.BaseDirectory, "models", Name);
    public string NetworkPath => Path.Combine(Folder, NetworkFile);
    public string PreprocessPath => Path.Combine(Folder, PreprocessFile);

    /// <summary>The layers a run writes when --layers is not given: the named ones.</summary>
    public IReadOnlyList<string> DefaultLayers => [.. Named.Select(n => n.Name)];

    /// <summary>The tensor a named layer or stage stands for, or null.</summary>
    public string? TensorOf(string layer) => Named.Concat(Stages).FirstOrDefault(l => l.Name == layer)?.Tensor;

    /// <summary>`stages`: every stage pooled (NAME@gap), then the named layers; `stages@map`: every stage's map kept whole.</summary>
    public IReadOnlyList<string>? Expand(string keyword) =>
        keyword.Equals(ZooLayers.StagesKeyword, StringComparison.OrdinalIgnoreCase) ? [.. Stages.Select(s => s.Name + LayerSpec.GapSuffix), .. DefaultLayers]
        : keyword.Equals(ZooLayers.MapStagesKeyword, StringComparison.OrdinalIgnoreCase) ? [.. Stages.Select(s => s.Name + LayerSpec.MapSuffix)]
        : null;

    string Fix => $"it comes from the NuGet package {Package} at build time: run `dotnet build` (restores it once from nuget.org or a local NuGet feed)";

    /// <summary>Both files are where the build puts them; else one line saying how to get them back.</summary>
    public void CheckPresent()
    {
        foreach (var path in new[] { NetworkPath, PreprocessPath })
            if (!File.Exists(path)) throw new ShiftBenchException($"{Name}: {path} is missing; {Fix}");
    }

    /// <summary>A file of this network whose SHA-256 was computed on reading is the package's.</summary>
    public void CheckHash(string path, string actualSha256)
    {
        string expected = path == PreprocessPath ? PreprocessSha256 : NetworkSha256;
        if (actualSha256 != expected)
            throw new ShiftBenchException($"{Name}: {path} has sha256 {actualSha256}, not the package's {expected}; delete it and {Fix}");
    }
}

/// <summary>The packaged networks (<see cref="PackagedNetwork"/>): `--model NAME` runs one with no download.</summary>
public static class PackagedNetworks
{
    public const string MlnetResNet18Name = "mlnet_resnet18";

    /// <summary>
    /// ML.NET's ImageNet ResNet-18 featurizer (a CNTK export, opset 8, batch 1): no classifier; its output is the
    /// 7x7 average pool, 512 values. Stages are the ReLU outputs of the stem (conv1, before the max pool) and of the
    /// last block of layer1..layer4 (tensor names read from the graph: `shiftbench models --layers mlnet_resnet18`).
    /// </summary>
    public static readonly PackagedNetwork MlnetResNet18 = new(
        MlnetResNet18Name,
        PackageOf("MlnetResNet18Package"),
        "MIT (dotnet/machinelearning); trained on ImageNet",
        "ResNet18.onnx", "e2552f19db2dfdb01b3669537b6a0f1b44da38d18279535492ed5dfc2ef1ff8f",
        "ResNetPreprocess.onnx", "84bf8def78d0befaa3f6e73745d57d7016c6a192ead76f79686bd438c1047004",
        [new("pool", "Pooling395_Output_0")],
        [
            new("stem", "ReLU253_Output_0"), new("layer1", "ReLU283_Output_0"), new("layer2", "ReLU315_Output_0"),
            new("layer3", "ReLU347_Output_0"), new("layer4", "ReLU393_Output_0"),
        ]);

    public static readonly IReadOnlyList<PackagedNetwork> All = [MlnetResNet18];

    public static IEnumerable<string> Names => All.Select(n => n.Name);

    public static PackagedNetwork? Find(string model) => All.FirstOrDefault(n => n.Name.Equals(model.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>The command that runs a network with no download, for messages about missing weights.</summary>
    public static string TryItHint => $"to try ShiftBench now without downloads: ./shiftbench run --model {MlnetResNet18Name} --dataset plane";

    /// <summary>"Id Version" of a package, as the build recorded it (one fact, kept in ShiftBench.Core.csproj).</summary>
    static string PackageOf(string key) =>
        typeof(PackagedNetworks).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value
        ?? throw new InvalidOperationException($"the build recorded no {key}");
}
