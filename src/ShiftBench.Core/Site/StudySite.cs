using ShiftBench.Analysis;
using ShiftBench.Models;
using ShiftBench.Output;

namespace ShiftBench.Site;

/// <summary>One grid the study's site publishes, and the file of our run it corresponds to.</summary>
/// <param name="FileName">The site's name, e.g. alexnetAA-fc7-berry-c-d3.csv.</param>
/// <param name="Layer">Our layer name (the site uses the same names).</param>
/// <param name="Anchor">tl, tr, c, bl or br; null for the class grid (not anchor-dependent).</param>
/// <param name="RunFile">cos-LAYER-ANCHOR.csv or class.csv in our run folder.</param>
public sealed record SiteFile(string FileName, string Layer, string? Anchor, string RunFile)
{
    public bool IsClass => Anchor is null;
}

/// <summary>
/// What the study's site (jakehlee/interactive-invariance, plotting.js) publishes: for every network,
/// dataset, layer and anchor a stride-1 grid `{model}{AA}-{layer}-{dataset}-{anchor}-d3.csv` (header
/// y,x,val, y and x in pixels of shift, every position), and the class grid only as `...-class-{dataset}-br-d3.csv`.
/// </summary>
public static class StudySite
{
    public const string BaseUrl = "https://jakehlee.github.io/interactive-invariance/data/csv/";

    /// <summary>The study's two datasets; our configs of the same name have the same geometry.</summary>
    public static readonly IReadOnlyList<string> Datasets = ["berry", "plane"];

    /// <summary>The only anchor the site names its class files with.</summary>
    const string ClassFileAnchor = "br";

    /// <summary>
    /// The site shows fully connected layers only (plotting.js: fc6..fc7relu, fc, class for AlexNet and
    /// VGG16; fc, class for ResNet50 and MobileNetV2): every layer of ours except the pooled features.
    /// </summary>
    const string LayerNotOnSite = "pool";

    /// <summary>The site's model name: ours, except mobilev2 for mobilenet_v2; antialiased networks add AA.</summary>
    public static string ModelName(ModelEntry entry) =>
        (entry.Model == "mobilenet_v2" ? "mobilev2" : entry.Model) + entry.VariantName switch
        {
            ModelVariant.Torchvision => "",
            ModelVariant.Antialiased => "AA",
            var other => throw new ShiftBenchException($"the study's site has the torchvision and antialiased variants only, not {other} (--variant)"),
        };

    public static IReadOnlyList<string> Layers(ModelEntry entry) => [.. entry.Layers.Where(l => l != LayerNotOnSite)];

    /// <summary>Every grid the site has for one network and dataset: each layer at each anchor, then the class grid.</summary>
    public static IReadOnlyList<SiteFile> Files(ModelEntry entry, string dataset)
    {
        string model = ModelName(entry);
        var files = new List<SiteFile>();
        foreach (var layer in Layers(entry))
        {
            if (layer == ModelEntry.ClassLayer)
                files.Add(new SiteFile($"{model}-{layer}-{dataset}-{ClassFileAnchor}-d3.csv", layer, null, RunLayout.Csv(RunLayout.ClassStem)));
            else
                files.AddRange(Anchors.Named.Select(anchor =>
                    new SiteFile($"{model}-{layer}-{dataset}-{anchor}-d3.csv", layer, anchor, RunLayout.Csv(RunLayout.CosineStem(layer, anchor)))));
        }
        return files;
    }
}
