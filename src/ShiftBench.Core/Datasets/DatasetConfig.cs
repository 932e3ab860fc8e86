using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace ShiftBench.Datasets;

/// <summary>
/// A shift dataset as described by a YAML file in configs/ (see configs/berry.yaml, configs/plane.yaml).
/// kind `patch`: an RGBA patch resized to patch.size, laid over the canvas at every position;
/// kind `crop`: the source resized to `resize`, every canvas-sized window.
/// </summary>
public sealed class DatasetConfig
{
    public string Name { get; set; } = "";
    public string Kind { get; set; } = "";
    public int? TargetClass { get; set; }
    public CanvasSpec Canvas { get; set; } = new();
    public PatchSpec? Patch { get; set; }
    public string? Source { get; set; }
    public int? Resize { get; set; }
    public int Stride { get; set; } = 1;

    /// <summary>The file this config was read from (empty for configs built in code).</summary>
    [YamlIgnore, System.Text.Json.Serialization.JsonIgnore] public string ConfigPath { get; set; } = "";

    public sealed class CanvasSpec
    {
        public int Size { get; set; } = 224;
        public int[]? Color { get; set; }
        public string? Image { get; set; }
    }

    public sealed class PatchSpec
    {
        public string Source { get; set; } = "";
        public int Size { get; set; }
    }

    public const string PatchKind = "patch";
    public const string CropKind = "crop";

    /// <summary>Source image file names this dataset reads from the data directory.</summary>
    [YamlIgnore, System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<string> SourceFiles =>
        Kind == PatchKind
            ? [Patch!.Source, .. Canvas.Image is null ? Array.Empty<string>() : [Canvas.Image]]
            : [Source!];

    /// <summary>Largest offset along each axis at which the object still fits.</summary>
    [YamlIgnore, System.Text.Json.Serialization.JsonIgnore]
    public int Room => Kind == PatchKind ? Canvas.Size - Patch!.Size : Resize!.Value - Canvas.Size;

    static readonly IDeserializer Yaml = new DeserializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .Build();

    public static DatasetConfig Parse(string yaml, string origin)
    {
        DatasetConfig config;
        try
        {
            config = Yaml.Deserialize<DatasetConfig>(yaml) ?? throw new ShiftBenchException($"{origin}: the file is empty; see configs/berry.yaml for the format");
        }
        catch (YamlException e)
        {
            string why = (e.InnerException?.Message ?? e.Message).Split('\n')[0];
            throw new ShiftBenchException($"{origin}: invalid dataset config at line {e.Start.Line}: {why} (fields: name, kind, target_class, canvas, patch, source, resize, stride)");
        }
        config.ConfigPath = origin;
        config.Validate();
        return config;
    }

    public static DatasetConfig Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ShiftBenchException($"{path}: cannot read dataset config ({e.Message})");
        }
        var config = Parse(text, path);
        if (config.Name.Length == 0) config.Name = Path.GetFileNameWithoutExtension(path);
        return config;
    }

    void Validate()
    {
        string at = ConfigPath;
        if (Canvas.Size < 1) throw new ShiftBenchException($"{at}: canvas.size must be a positive number of pixels");
        if (Stride < 1) throw new ShiftBenchException($"{at}: stride must be 1 or more");
        if (TargetClass is < 0 or > 999) throw new ShiftBenchException($"{at}: target_class {TargetClass} is not an ImageNet class index (0..999)");
        switch (Kind)
        {
            case PatchKind:
                if (Patch is null || string.IsNullOrWhiteSpace(Patch.Source))
                    throw new ShiftBenchException($"{at}: kind 'patch' needs patch.source (an RGBA image file) and patch.size");
                if (Patch.Size < 1) throw new ShiftBenchException($"{at}: patch.size must be a positive number of pixels");
                if (Patch.Size > Canvas.Size)
                    throw new ShiftBenchException($"{at}: patch.size {Patch.Size} is larger than canvas.size {Canvas.Size}; make the patch smaller or the canvas larger");
                if (Canvas.Image is null)
                {
                    Canvas.Color ??= [255, 255, 255];
                    if (Canvas.Color.Length != 3 || Canvas.Color.Any(c => c is < 0 or > 255))
                        throw new ShiftBenchException($"{at}: canvas.color must be three values 0..255, e.g. [255, 255, 255]");
                }
                break;
            case CropKind:
                if (string.IsNullOrWhiteSpace(Source)) throw new ShiftBenchException($"{at}: kind 'crop' needs source (an image file)");
                if (Resize is null or < 1) throw new ShiftBenchException($"{at}: kind 'crop' needs resize (the side the source is resized to)");
                if (Resize < Canvas.Size)
                    throw new ShiftBenchException($"{at}: resize {Resize} is smaller than canvas.size {Canvas.Size}; a crop must fit inside the resized source");
                break;
            default:
                throw new ShiftBenchException($"{at}: unknown kind '{Kind}'; use 'patch' or 'crop'");
        }
    }
}
