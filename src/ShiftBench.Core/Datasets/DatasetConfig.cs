using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace ShiftBench.Datasets;

/// <summary>
/// A shift dataset as described by a YAML file in configs/ (see configs/berry.yaml, configs/plane.yaml).
/// kind `patch`: an RGBA patch resized to patch.size, laid over the canvas at every position;
/// kind `crop`: the source resized to `resize`, every canvas-sized window;
/// kind `patches`: a folder of RGBA patches, each shifted like `patch`; grids are averaged over patches;
/// kind `roll`: the source resized to `resize` and centre-cropped to the canvas, rolled circularly;
/// kind `subpixel`: the same image shifted circularly by multiples of `step` pixels (fourier or bilinear).
/// Each kind is a class in Kinds/ (<see cref="Kinds.DatasetKinds"/>) that checks its fields and gives the geometry.
/// </summary>
public sealed class DatasetConfig
{
    public string Name { get; set; } = "";
    public string Kind { get; set; } = "";
    public int? TargetClass { get; set; }
    public CanvasSpec Canvas { get; set; } = new();
    public PatchSpec? Patch { get; set; }
    public PatchesSpec? Patches { get; set; }
    public string? Source { get; set; }
    public int? Resize { get; set; }
    public int Stride { get; set; } = 1;
    // The new kinds' fields are left out of JSON when unset, so runs fingerprinted before they existed still match.
    /// <summary>Kind roll: largest shift along each axis in pixels (default canvas.size - 1, every circular shift).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] public int? MaxShift { get; set; }
    /// <summary>Kind subpixel: the shift step in pixels (e.g. 0.25); grid offsets count steps.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] public double? Step { get; set; }
    /// <summary>Kind subpixel: largest shift along each axis in pixels, a whole number of steps.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] public double? Range { get; set; }
    /// <summary>Kind subpixel: `fourier` (ideal band-limited circular shift) or `bilinear` (circular wrap).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] public string? Method { get; set; }
    /// <summary>How sources are resized: `opencv` (default; OpenCV's 8-bit INTER_LINEAR, what the study used) or `bilinear` (float64, rounded).</summary>
    public string ResizeMethod { get; set; } = OpenCvResizeMethod;

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

    public sealed class PatchesSpec
    {
        /// <summary>Folder of RGBA images (*.png), relative to the data directory or absolute.</summary>
        public string Folder { get; set; } = "";
        public int Size { get; set; }
        /// <summary>Optional CSV `file,class` giving each patch's target class (else target_class).</summary>
        public string? Classes { get; set; }
    }

    public const string PatchKind = Kinds.PatchOnCanvasKind.KindName;
    public const string CropKind = Kinds.CropWindowKind.KindName;
    public const string PatchesKind = Kinds.PatchFolderKind.KindName;
    public const string RollKind = Kinds.RollShiftKind.KindName;
    public const string SubpixelKind = Kinds.SubpixelShiftKind.KindName;

    /// <summary>The kind `kind:` names (<see cref="Kinds.DatasetKinds"/>); only a validated config has one.</summary>
    [YamlIgnore, System.Text.Json.Serialization.JsonIgnore]
    public Kinds.DatasetKind KindType => Kinds.DatasetKinds.Find(Kind) ?? throw new InvalidOperationException($"dataset kind '{Kind}' is not registered");

    public const string FourierMethod = "fourier";
    public const string BilinearShiftMethod = "bilinear";
    public static readonly IReadOnlyList<string> SubpixelMethods = [FourierMethod, BilinearShiftMethod];

    public const string OpenCvResizeMethod = "opencv";
    public const string BilinearResizeMethod = "bilinear";
    public static readonly IReadOnlyList<string> ResizeMethods = [OpenCvResizeMethod, BilinearResizeMethod];
    /// <summary>The method of a run.json whose config has no resize_method: runs made before the field existed used the float one.</summary>
    public const string UnrecordedResizeMethod = BilinearResizeMethod;

    /// <summary>Source image file names this dataset reads from the data directory.</summary>
    [YamlIgnore, System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<string> SourceFiles => KindType.SourceFiles(this);

    /// <summary>Largest offset along each axis at which the object still fits.</summary>
    [YamlIgnore, System.Text.Json.Serialization.JsonIgnore]
    public int Room => KindType.Room(this);

    /// <summary>
    /// Pixels per unit of grid offset: 1, except kind subpixel, whose offsets count steps (offset i = a shift of
    /// i * step pixels), so every grid keeps whole-number y,x.
    /// </summary>
    [YamlIgnore, System.Text.Json.Serialization.JsonIgnore]
    public double OffsetUnitPx => KindType.OffsetUnitPx(this);

    /// <summary>Kinds roll and subpixel: the side the source is resized to before the centre crop (default canvas.size).</summary>
    [YamlIgnore, System.Text.Json.Serialization.JsonIgnore]
    public int CircularResize => Resize ?? Canvas.Size;

    /// <summary>Offsets along each axis, in grid units (pixels; steps for subpixel): 0, stride, 2*stride, ... up to Room.</summary>
    public IReadOnlyList<int> Offsets(int stride) => Enumerable.Range(0, Room / stride + 1).Select(i => i * stride).ToList();

    /// <summary>
    /// For kind `patches`: one kind-`patch` config per image in the folder (sorted by name), each with
    /// its own target class from the classes CSV, else the dataset's target_class.
    /// </summary>
    public IReadOnlyList<DatasetConfig> ExpandPatches(string dataDir)
    {
        if (Kind != PatchesKind) throw new InvalidOperationException("only kind 'patches' expands");
        string folder = Path.Combine(dataDir, Patches!.Folder);
        if (!Directory.Exists(folder))
            throw new ShiftBenchException($"{ConfigPath}: patches.folder {folder} does not exist; put the patch images there or fix the path");
        var files = Directory.GetFiles(folder, "*.png").Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new ShiftBenchException($"{ConfigPath}: patches.folder {folder} holds no .png patches");
        var classes = Patches.Classes is { } csv ? ReadClasses(Path.Combine(dataDir, csv)) : [];
        return files.Select(file =>
        {
            string name = Path.GetFileName(file);
            if (!IsPlainName(Path.GetFileNameWithoutExtension(file)))
                throw new ShiftBenchException($"{ConfigPath}: patch file {file} names a run folder (RUN/patches/NAME), so NAME must be letters, digits and ._+-@, not starting with '.'; rename the file");
            int? target = classes.TryGetValue(name, out int c) ? c : TargetClass;
            return new DatasetConfig
            {
                Name = Path.GetFileNameWithoutExtension(file), Kind = PatchKind, TargetClass = target, Stride = Stride, ConfigPath = ConfigPath,
                ResizeMethod = ResizeMethod,
                Canvas = Canvas, Patch = new PatchSpec { Source = Path.GetFullPath(file), Size = Patches.Size },
            };
        }).ToList();
    }

    Dictionary<string, int> ReadClasses(string path)
    {
        if (!File.Exists(path)) throw new ShiftBenchException($"{ConfigPath}: patches.classes {path} does not exist; give a CSV of file,class");
        var map = new Dictionary<string, int>();
        int line = 0;
        foreach (var row in Output.BoundedFile.ReadAllText(path, "patches.classes CSV").Split('\n').Select(r => r.TrimEnd('\r')))
        {
            line++;
            var parts = row.Split(',', StringSplitOptions.TrimEntries);
            if (row.Trim().Length == 0 || (line == 1 && !int.TryParse(parts.ElementAtOrDefault(1), out _))) continue; // blank or header
            if (parts.Length != 2 || !int.TryParse(parts[1], out int cls) || cls is < 0 or > 999)
                throw new ShiftBenchException($"{path}:{line}: expected `file,class` with class 0..999, got '{row}'");
            map[parts[0]] = cls;
        }
        return map;
    }

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
            throw new ShiftBenchException($"{origin}: invalid dataset config at line {e.Start.Line}: {why} (fields: name, kind, target_class, canvas, patch, patches, source, resize, resize_method, stride, max_shift, step, range, method)");
        }
        config.ConfigPath = origin;
        config.Validate();
        return config;
    }

    public static DatasetConfig Load(string path)
    {
        string text = Output.BoundedFile.ReadAllText(path, "dataset config", InputLimits.MaxConfigBytes);
        var config = Parse(text, path);
        if (config.Name.Length == 0)
        {
            config.Name = Path.GetFileNameWithoutExtension(path);
            CheckName(config.Name, $"{path}: the file name");
        }
        return config;
    }

    /// <summary>
    /// A dataset's name is one folder of the output (OUT/NAME/MODEL/VARIANT) and part of figure file names, so it
    /// must be a plain file name: letters, digits and ._+-@, not starting with '.' (no '/', '..' or absolute path).
    /// </summary>
    public static bool IsPlainName(string name) =>
        name.Length is > 0 and <= 100 && name == Models.LayerSpec.FileSafe(name) && !name.StartsWith('.');

    static void CheckName(string name, string where)
    {
        if (!IsPlainName(name))
            throw new ShiftBenchException($"{where}: name '{name}' must be 1-100 letters, digits and ._+-@, not starting with '.' (it names the folder OUT/NAME); e.g. name: my-dataset");
    }

    void CheckAtMost(string field, int value, int limit)
    {
        if (value > limit)
            throw new ShiftBenchException($"{ConfigPath}: {field} {value} is above the limit of {limit} pixels; make it {limit} or less");
    }

    internal void CheckFitsCanvas(string field, int size)
    {
        if (size < 1) throw new ShiftBenchException($"{ConfigPath}: {field} must be a positive number of pixels");
        if (size > Canvas.Size)
            throw new ShiftBenchException($"{ConfigPath}: {field} {size} is larger than canvas.size {Canvas.Size}; make it smaller or the canvas larger");
    }

    void Validate()
    {
        string at = ConfigPath;
        if (Name.Length > 0) CheckName(Name, at);
        if (Canvas.Size < 1) throw new ShiftBenchException($"{at}: canvas.size must be a positive number of pixels");
        CheckAtMost("canvas.size", Canvas.Size, InputLimits.MaxCanvasSize);
        if (Resize is { } resize) CheckAtMost("resize", resize, InputLimits.MaxResize);
        if (Stride < 1) throw new ShiftBenchException($"{at}: stride must be 1 or more");
        if (TargetClass is < 0 or > 999) throw new ShiftBenchException($"{at}: target_class {TargetClass} is not an ImageNet class index (0..999)");
        if (!ResizeMethods.Contains(ResizeMethod))
            throw new ShiftBenchException($"{at}: resize_method '{ResizeMethod}' is unknown; use {string.Join(" or ", ResizeMethods)} (opencv is the default)");
        var kind = Kinds.DatasetKinds.Find(Kind)
            ?? throw new ShiftBenchException($"{at}: unknown kind '{Kind}'; use {string.Join(", ", Kinds.DatasetKinds.Names.Select(k => $"'{k}'"))}");
        kind.Validate(this);
        if (kind.OnCanvas && Canvas.Image is null)
        {
            Canvas.Color ??= [255, 255, 255];
            if (Canvas.Color.Length != 3 || Canvas.Color.Any(c => c is < 0 or > 255))
                throw new ShiftBenchException($"{at}: canvas.color must be three values 0..255, e.g. [255, 255, 255]");
        }
    }
}
