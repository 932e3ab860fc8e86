namespace ShiftBench.Tests;

/// <summary>Where tests find the study's images and scratch space.</summary>
public static class TestPaths
{
    /// <summary>
    /// $SHIFTBENCH_DATA, else ../shared/data beside the repository (as in CI), else data/: the order of
    /// tools/test-data.sh, which ./test.sh runs first to find the images or download them into data/.
    /// </summary>
    public static string DataDir
    {
        get
        {
            string? env = Environment.GetEnvironmentVariable("SHIFTBENCH_DATA");
            string[] candidates = [.. new[] { env, Path.Combine(RepoRoot, "..", "shared", "data"), Path.Combine(RepoRoot, "data") }.OfType<string>().Where(d => d.Length > 0)];
            return candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, "berry_transparent.png")) && File.Exists(Path.Combine(d, "plane.png")))
                ?? throw new AssertionException($"the study's images are not in {string.Join(", ", candidates)}: run ./test.sh (it fetches them), or set SHIFTBENCH_DATA to the folder with berry_transparent.png and plane.png");
        }
    }

    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "ShiftBench.sln"))) return dir.FullName;
            throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
        }
    }

    public static string Fixture(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);

    /// <summary>A fresh empty folder, removed when the returned handle is disposed.</summary>
    public static TempDir NewTempDir() => new();

    public sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("shiftbench-test-").FullName;
        public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
        public static implicit operator string(TempDir d) => d.Path;
    }
}
