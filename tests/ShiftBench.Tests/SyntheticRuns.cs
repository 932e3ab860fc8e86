using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ShiftBench.Tests;

/// <summary>
/// Writes run folders in the documented output layout (docs/output.md) with made-up but
/// realistic grids: similarity falling off with distance from the anchor, plus small position noise.
/// </summary>
static class SyntheticRuns
{
    public static readonly string[] StudyAnchors = ["tl", "tr", "c", "bl", "br"];

    public static string DataDir =>
        Environment.GetEnvironmentVariable("SHIFTBENCH_DATA") is { Length: > 0 } d ? d
            : Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../../shared/data"));

    /// <summary>Skips (Inconclusive) a test when the study images are not available.</summary>
    public static string RequireData()
    {
        if (!File.Exists(Path.Combine(DataDir, "berry_transparent.png")) || !File.Exists(Path.Combine(DataDir, "plane.png")))
            Assert.Ignore($"study images not found in {DataDir}; set SHIFTBENCH_DATA");
        return DataDir;
    }

    public static string NewOutDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "shiftbench-report-tests", Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Writes OUT/dataset/model/variant/ and returns that folder. Grid values depend on seed.</summary>
    public static string Write(string outDir, string dataset, string model, string variant, int rows, int cols, int stride,
        IReadOnlyList<string> layers, IReadOnlyList<string>? anchors = null, int seed = 1, string[]? figures = null,
        bool complete = true, double noise = 0.002)
    {
        anchors ??= StudyAnchors;
        string dir = Path.Combine(outDir, dataset, model, variant);
        Directory.CreateDirectory(dir);
        var rng = new Random(seed);
        int last = rows - 1;
        var anchorPositions = new Dictionary<string, int[]>
        {
            ["tl"] = [0, 0], ["tr"] = [0, (cols - 1) * stride], ["c"] = [rows / 2 * stride, cols / 2 * stride],
            ["bl"] = [last * stride, 0], ["br"] = [last * stride, (cols - 1) * stride],
        };
        var usedAnchors = anchors.ToDictionary(a => a, a => anchorPositions[a]);

        foreach (var layer in layers)
        {
            if (layer == "class")
            {
                WriteGrid(Path.Combine(dir, "class.csv"), rows, cols, stride, (iy, ix) =>
                    Math.Clamp(0.55 + 0.4 * Math.Sin((iy + seed) * 0.21) * Math.Cos(ix * 0.17) + noise * rng.NextDouble(), 0, 1));
                continue;
            }
            double falloff = 0.1 + 0.05 * rng.NextDouble();
            foreach (var (name, pos) in usedAnchors)
            {
                int ay = pos[0] / stride, ax = pos[1] / stride;
                WriteGrid(Path.Combine(dir, $"cos-{layer}-{name}.csv"), rows, cols, stride, (iy, ix) =>
                {
                    if (iy == ay && ix == ax) return 1.0;
                    double d = Math.Sqrt((iy - ay) * (iy - ay) + (ix - ax) * (ix - ax)) / Math.Max(rows, cols);
                    return Math.Min(1.0, 1 - falloff * d - noise * rng.NextDouble() + 0.01 * Math.Sin(iy * 0.7 + ix * 0.3 + seed));
                });
            }
        }
        foreach (var f in figures ?? [])
            File.Copy(Path.Combine(DataDir, "berry_transparent.png"), Path.Combine(dir, f), overwrite: true);

        var config = dataset == "plane"
            ? (object)new Dictionary<string, object>
            {
                ["name"] = "plane", ["kind"] = "crop", ["target_class"] = 895, ["source"] = "plane.png", ["resize"] = 356, ["resize_method"] = "opencv",
                ["canvas"] = new Dictionary<string, object> { ["size"] = 224 }, ["stride"] = stride,
            }
            : new Dictionary<string, object>
            {
                ["name"] = dataset, ["kind"] = "patch", ["target_class"] = 949, ["resize_method"] = "opencv",
                ["canvas"] = new Dictionary<string, object> { ["size"] = 224, ["color"] = new[] { 255, 255, 255 } },
                ["patch"] = new Dictionary<string, object> { ["source"] = "berry_transparent.png", ["size"] = 100 }, ["stride"] = stride,
            };
        string sourceFile = dataset == "plane" ? "plane.png" : "berry_transparent.png";
        string sourcePath = Path.Combine(DataDir, sourceFile);
        string? sha = File.Exists(sourcePath) ? Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(sourcePath))) : null;
        var run = new Dictionary<string, object?>
        {
            ["tool_version"] = "0.1.0", ["model"] = model, ["variant"] = variant,
            ["dataset"] = new Dictionary<string, object?>
            {
                ["name"] = dataset, ["config"] = config,
                ["sources"] = new[] { new Dictionary<string, object?> { ["file"] = sourceFile, ["path"] = sourcePath, ["sha256"] = sha } },
            },
            ["stride"] = stride,
            ["grid"] = new Dictionary<string, int> { ["rows"] = rows, ["cols"] = cols, ["stride"] = stride },
            ["layers"] = layers, ["anchors"] = usedAnchors, ["complete"] = complete,
        };
        if (figures is not null) run["figures"] = figures;
        File.WriteAllText(Path.Combine(dir, "run.json"), JsonSerializer.Serialize(run, new JsonSerializerOptions { WriteIndented = true }));
        return dir;
    }

    static void WriteGrid(string path, int rows, int cols, int stride, Func<int, int, double> value)
    {
        var sb = new StringBuilder("y,x,val\n");
        for (int iy = 0; iy < rows; iy++)
            for (int ix = 0; ix < cols; ix++)
                sb.Append(CultureInfo.InvariantCulture, $"{iy * stride},{ix * stride},{((float)value(iy, ix)).ToString("G9", CultureInfo.InvariantCulture)}\n");
        File.WriteAllText(path, sb.ToString());
    }
}
