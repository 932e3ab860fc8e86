namespace ShiftBench.Tests;

/// <summary>Where tests find the study's images and scratch space.</summary>
public static class TestPaths
{
    /// <summary>$SHIFTBENCH_DATA, else ../shared/data beside the repository (as in CI).</summary>
    public static string DataDir
    {
        get
        {
            string? env = Environment.GetEnvironmentVariable("SHIFTBENCH_DATA");
            string dir = !string.IsNullOrEmpty(env) ? env : Path.Combine(RepoRoot, "..", "shared", "data");
            if (!File.Exists(Path.Combine(dir, "berry_transparent.png")))
                Assert.Fail($"the study's images are not in {dir}: set SHIFTBENCH_DATA to the folder with berry_transparent.png and plane.png");
            return dir;
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
