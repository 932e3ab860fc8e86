using System.Diagnostics;
using System.Text.Json.Nodes;

namespace ShiftBench.Tests;

/// <summary>
/// The ONNX files of the parity tests, exported once per test run by tools/fixtures/export_onnx_models.py with
/// Debian's python3-torch, python3-torchvision, python3-onnx and python3-opencv (full-size AlexNet and ResNet-50 are too big to
/// commit). Without them a test fails under CI=true (.ci/run installs them) and is skipped, saying why, elsewhere.
/// </summary>
public static class OnnxExports
{
    const string Python = "/usr/bin/python3";
    static readonly Lazy<(string? Folder, string? Problem)> exported = new(Export);

    /// <summary>The folder with alexnet.onnx, resnet50.onnx, convnext.onnx, convnext-ref/ and manifest.json.</summary>
    public static string Folder
    {
        get
        {
            var (folder, problem) = exported.Value;
            if (folder is not null) return folder;
            if (Environment.GetEnvironmentVariable("CI") == "true")
                Assert.Fail($"ONNX parity models could not be exported: {problem} (.ci/install-deps installs python3-torch python3-torchvision python3-onnx python3-opencv)");
            Assert.Ignore($"ONNX parity models not exported: {problem}; install Debian's python3-torch python3-torchvision python3-onnx python3-opencv to run this test");
            return "";
        }
    }

    public static JsonNode Manifest => JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "manifest.json")))!;

    public static string File_(string name) => Path.Combine(Folder, name);

    /// <summary>Deletes the exported files (about 350 MB) once the tests are done.</summary>
    public static void Remove()
    {
        if (exported.IsValueCreated && exported.Value.Folder is { } folder && Directory.Exists(folder))
            Directory.Delete(folder, recursive: true);
    }

    static (string?, string?) Export()
    {
        if (!File.Exists(Python)) return (null, $"{Python} does not exist");
        string folder = Path.Combine(Path.GetTempPath(), $"shiftbench-onnx-exports-{Environment.ProcessId}");
        var info = new ProcessStartInfo(Python) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false }.Isolate();
        info.ArgumentList.Add(Path.Combine(TestPaths.RepoRoot, "tools", "fixtures", "export_onnx_models.py"));
        info.ArgumentList.Add(folder);
        info.ArgumentList.Add(TestPaths.DataDir);
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            var lines = stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return (null, $"export_onnx_models.py exited {process.ExitCode}: {(lines.Length > 0 ? lines[^1] : "")}");
        }
        return (folder, null);
    }
}

/// <summary>Removes the exported ONNX files after the last test of the assembly.</summary>
[SetUpFixture]
public class OnnxExportsCleanup
{
    [OneTimeTearDown]
    public void RemoveExports() => OnnxExports.Remove();
}
