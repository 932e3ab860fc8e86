namespace ShiftBench.Assets;

/// <summary>
/// Where weights and source images live. One rule for every command:
/// weights: --weights-dir, else $SHIFTBENCH_WEIGHTS, else weights/ under the repository root;
/// data: --data-dir, else $SHIFTBENCH_DATA, else data/ under the repository root.
/// The repository root is the nearest folder upwards holding ShiftBench.sln, else the current directory.
/// </summary>
public sealed record AssetPaths(string WeightsDir, string DataDir)
{
    public const string WeightsVariable = "SHIFTBENCH_WEIGHTS";
    public const string DataVariable = "SHIFTBENCH_DATA";
    const string SolutionFile = "ShiftBench.sln";

    /// <param name="weightsDir">--weights-dir, or null.</param>
    /// <param name="dataDir">--data-dir, or null.</param>
    /// <param name="currentDir">Start of the repository-root search (default: the current directory).</param>
    /// <param name="environment">Variable lookup (default: the process environment); tests pass their own.</param>
    public static AssetPaths Resolve(string? weightsDir = null, string? dataDir = null,
        string? currentDir = null, Func<string, string?>? environment = null)
    {
        environment ??= EnvironmentVariables.Get;
        currentDir = Path.GetFullPath(currentDir ?? Directory.GetCurrentDirectory());
        string? root = null;
        string Pick(string? option, string variable, string folder) =>
            Path.GetFullPath(NonEmpty(option) ?? NonEmpty(environment(variable))
                ?? Path.Combine(root ??= FindRepoRoot(currentDir), folder), currentDir);
        return new AssetPaths(Pick(weightsDir, WeightsVariable, "weights"), Pick(dataDir, DataVariable, "data"));
    }

    /// <summary>The nearest folder at or above startDir that holds ShiftBench.sln; startDir itself if none does.</summary>
    public static string FindRepoRoot(string? startDir = null)
    {
        string start = Path.GetFullPath(startDir ?? Directory.GetCurrentDirectory());
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, SolutionFile)))
                return dir.FullName;
        return start;
    }

    public string DirectoryFor(AssetEntry asset) => asset.Kind == AssetKind.Weights ? WeightsDir : DataDir;

    public string PathOf(AssetEntry asset) => Path.Combine(DirectoryFor(asset), asset.FileName);

    static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
}
