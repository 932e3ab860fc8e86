namespace ShiftBench.Datasets;

/// <summary>
/// Finds dataset configs: `--dataset` takes a name (configs/NAME.yaml) or a path to a YAML file. The repository's
/// dataset configs are also built into the library, so a program that references ShiftBench.Core outside the
/// repository (docs/library.md) finds `berry` and `plane` too; a configs/ folder found on disk comes first.
/// </summary>
public static class DatasetCatalog
{
    /// <summary>Resource names of the built-in configs (ShiftBench.Core.csproj embeds configs/*.yaml but the sweeps).</summary>
    const string ResourcePrefix = "ShiftBench.Configs.";

    public static DatasetConfig Resolve(string nameOrPath)
    {
        if (nameOrPath.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || nameOrPath.EndsWith(".yml", StringComparison.OrdinalIgnoreCase)
            || nameOrPath.Contains(Path.DirectorySeparatorChar))
        {
            if (!File.Exists(nameOrPath))
                throw new ShiftBenchException($"dataset config '{nameOrPath}' (--dataset) does not exist; give a dataset name ({string.Join(", ", Names())}) or a YAML file");
            return DatasetConfig.Load(nameOrPath);
        }
        string? file = ConfigsDirectory() is { } dir ? Path.Combine(dir, nameOrPath + ".yaml") : null;
        if (file is not null && File.Exists(file)) return DatasetConfig.Load(file);
        if (BuiltIn(nameOrPath) is { } yaml) return DatasetConfig.Parse(yaml, "");
        throw new ShiftBenchException($"unknown dataset '{nameOrPath}' (--dataset): choose one of {string.Join(", ", Names())} or give a path to a YAML file");
    }

    public static IReadOnlyList<string> Names() =>
        ConfigsDirectory() is { } dir
            ? Directory.GetFiles(dir, "*.yaml").Select(f => Path.GetFileNameWithoutExtension(f)!)
                .Where(n => !IsSweepConfig(n)).Order().ToList()
            : BuiltInNames();

    /// <summary>configs/ also holds sweep files (ci-sweep.yaml, study.yaml), which are not datasets; the csproj leaves the same out.</summary>
    public static bool IsSweepConfig(string name) => name.Contains("sweep", StringComparison.Ordinal) || name == "study";

    /// <summary>configs/ of the repository: found from the working directory, else from the program's location.</summary>
    public static string? ConfigsDirectory() =>
        new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory }
            .Select(start => Path.Combine(Assets.AssetPaths.FindRepoRoot(start), "configs"))
            .FirstOrDefault(Directory.Exists);

    /// <summary>The names of the dataset configs built into the library.</summary>
    public static IReadOnlyList<string> BuiltInNames() =>
        [.. typeof(DatasetCatalog).Assembly.GetManifestResourceNames().Where(r => r.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            .Select(r => r[ResourcePrefix.Length..^".yaml".Length]).Order(StringComparer.Ordinal)];

    /// <summary>The YAML of a built-in config, or null.</summary>
    static string? BuiltIn(string name)
    {
        using var stream = typeof(DatasetCatalog).Assembly.GetManifestResourceStream(ResourcePrefix + name + ".yaml");
        if (stream is null) return null;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
