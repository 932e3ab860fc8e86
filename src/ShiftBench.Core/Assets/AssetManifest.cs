using ShiftBench.Models;

namespace ShiftBench.Assets;

/// <summary>
/// Every file ShiftBench can download. The built-in manifest takes the weight files from
/// ModelRegistry.All (name, URL, published hash prefix) and adds the study's two source images.
/// </summary>
public sealed class AssetManifest
{
    const string StudyImagesBase = "https://jakehlee.github.io/interactive-invariance/data/images/";
    const string StudyImagesLicence = "MIT (jakehlee/interactive-invariance)";

    // Sizes and full hashes of the files served by the study's site (see shared/data/README.md).
    static readonly AssetEntry[] StudyImages =
    [
        new("berry_transparent.png", StudyImagesBase + "berry_transparent.png",
            "187b35acaf3c9b305ad74004fdbbaea311cc8587b745934008ae7619e36ad62f", 22390, StudyImagesLicence, AssetKind.Data),
        new("plane.png", StudyImagesBase + "plane.png",
            "a35ad2e03289a239a4ee977ef3ba8cd70dac952f242c7224e376982805ecff4d", 247743, StudyImagesLicence, AssetKind.Data),
    ];

    public static AssetManifest BuiltIn { get; } = new([.. ModelRegistry.All.DistinctBy(m => m.FileName).Select(WeightsEntry), .. StudyImages]);

    public IReadOnlyList<AssetEntry> Entries { get; }

    public AssetManifest(IEnumerable<AssetEntry> entries)
    {
        Entries = [.. entries];
        foreach (var e in Entries)
            if (e.Sha256.Length is < 8 or > 64 || !e.Sha256.All(char.IsAsciiHexDigitLower))
                throw new ArgumentException($"asset {e.FileName}: sha256 '{e.Sha256}' is not 8 to 64 lowercase hex digits");
        var twice = Entries.GroupBy(e => e.FileName).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null)
            throw new ArgumentException($"asset {twice.Key} is listed twice");
    }

    public static AssetEntry WeightsEntry(ModelEntry model) => new(
        model.FileName, model.Url, model.Sha256Prefix.ToLowerInvariant(), Size: null,
        model.Licence, AssetKind.Weights);

    public AssetEntry? Find(string fileName) =>
        Entries.FirstOrDefault(e => e.FileName == Path.GetFileName(fileName));

    /// <summary>The --variant value (names, `both`, `all`) for one model, or for every model when null.</summary>
    public static IReadOnlyList<string> ParseVariants(string text, string? model = null) => ModelRegistry.ParseVariants(text, model);

    /// <summary>
    /// The assets a job needs: weights of `model` (all models when null) in the given variants (no weights
    /// when both are null), plus the manifest entries whose file names appear in datasetFiles (the source
    /// files a dataset config names; names the manifest does not know are the user's own files and are skipped).
    /// </summary>
    public IReadOnlyList<AssetEntry> Select(string? model, IReadOnlyCollection<string>? variants,
        IEnumerable<string>? datasetFiles = null)
    {
        var chosen = new List<AssetEntry>();
        if (model is not null || variants is not null)
        {
            variants ??= [ModelVariant.Torchvision, ModelVariant.Antialiased];
            var networks = ModelRegistry.All.Where(m => model is null || m.Model.Equals(model, StringComparison.OrdinalIgnoreCase)).ToList();
            if (networks.Count == 0)
                throw new ShiftBenchException($"unknown model '{model}' (--model): choose one of {string.Join(", ", ModelRegistry.ModelNames)}");
            var wanted = networks.Where(m => variants.Contains(m.VariantName)).ToList();
            if (wanted.Count == 0)
            {
                string variantNames = string.Join(" or ", variants);
                throw new ShiftBenchException(model is null
                    ? $"no model has a {variantNames} variant yet (--variant)"
                    : $"model '{model}' has no {variantNames} variant yet (--variant)");
            }
            foreach (var m in wanted.DistinctBy(m => m.FileName))
                chosen.Add(Find(m.FileName) ?? throw new InvalidOperationException($"{m.FileName} is missing from the asset manifest"));
        }
        foreach (var file in datasetFiles ?? [])
            if (Find(file) is { } entry && !chosen.Contains(entry))
                chosen.Add(entry);
        return chosen;
    }
}
