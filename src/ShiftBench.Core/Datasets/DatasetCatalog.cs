namespace ShiftBench.Datasets;

/// <summary>Finds dataset configs: `--dataset` takes a name (configs/NAME.yaml) or a path to a YAML file.</summary>
public static class DatasetCatalog
{
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
        if (file is null || !File.Exists(file))
            throw new ShiftBenchException($"unknown dataset '{nameOrPath}' (--dataset): choose one of {string.Join(", ", Names())} or give a path to a YAML file");
        return DatasetConfig.Load(file);
    }

    public static IReadOnlyList<string> Names() =>
        ConfigsDirectory() is { } dir
            ? Directory.GetFiles(dir, "*.yaml").Select(f => Path.GetFileNameWithoutExtension(f)!)
                .Where(n => !n.Contains("sweep")).Order().ToList()
            : [];

    /// <summary>configs/ of the repository: found from the working directory, else from the program's location.</summary>
    public static string? ConfigsDirectory() =>
        new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory }
            .Select(start => Path.Combine(Assets.AssetPaths.FindRepoRoot(start), "configs"))
            .FirstOrDefault(Directory.Exists);
}
