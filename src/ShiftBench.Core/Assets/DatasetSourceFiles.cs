using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ShiftBench.Assets;

/// <summary>
/// The file names a dataset config reads (its `source:` and `image:` values, at any depth), so that
/// `fetch --dataset` knows which images to download. Full parsing of configs lives in Datasets/.
/// </summary>
public static class DatasetSourceFiles
{
    static readonly string[] FileKeys = ["source", "image"];

    /// <summary>configs/NAME.yaml under the repository root, or NAME itself when it is a path to a .yaml file.</summary>
    public static string ConfigPath(string dataset, string? repoRoot = null)
    {
        if (dataset.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || dataset.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
            return Path.GetFullPath(dataset);
        return Path.Combine(repoRoot ?? AssetPaths.FindRepoRoot(), "configs", dataset + ".yaml");
    }

    public static IReadOnlyList<string> Read(string configPath)
    {
        if (!File.Exists(configPath))
            throw new ShiftBenchException($"dataset config {configPath} not found (--dataset): name one of configs/*.yaml or give a .yaml path");
        var yaml = new YamlStream();
        try
        {
            using var reader = new StreamReader(Output.InputFile.OpenRead(configPath, "dataset config"));
            yaml.Load(reader);
        }
        catch (YamlException e)
        {
            throw new ShiftBenchException($"{configPath}: not valid YAML at line {e.Start.Line} ({e.Message})");
        }
        var files = new List<string>();
        foreach (var document in yaml.Documents)
            Collect(document.RootNode, files);
        return files;
    }

    static void Collect(YamlNode node, List<string> files)
    {
        switch (node)
        {
            case YamlMappingNode map:
                foreach (var (key, value) in map.Children)
                {
                    if (key is YamlScalarNode { Value: { } k } && FileKeys.Contains(k) && value is YamlScalarNode { Value: { Length: > 0 } file })
                        files.Add(file);
                    else
                        Collect(value, files);
                }
                break;
            case YamlSequenceNode list:
                foreach (var item in list.Children)
                    Collect(item, files);
                break;
        }
    }
}
