using System.Text.Json;
using ShiftBench.Datasets;

namespace ShiftBench.Tests;

/// <summary>
/// The library carries the repository's dataset configs (for programs outside a checkout, docs/library.md): the
/// same names as configs/ less the sweep files, and each one the same config as its file.
/// </summary>
[Category("Fast")]
public class BuiltInDatasetConfigsTests
{
    static string Configs => Path.Combine(TestPaths.RepoRoot, "configs");

    [Test]
    public void BuiltInConfigsAreTheDatasetConfigsOfTheRepository()
    {
        var onDisk = Directory.GetFiles(Configs, "*.yaml").Select(f => Path.GetFileNameWithoutExtension(f)!)
            .Where(n => !DatasetCatalog.IsSweepConfig(n)).Order(StringComparer.Ordinal).ToList();
        Assert.That(onDisk, Does.Contain("berry").And.Contain("plane"));
        Assert.That(DatasetCatalog.BuiltInNames(), Is.EqualTo(onDisk));
    }

    [Test]
    public void EachBuiltInConfigEqualsItsFile()
    {
        foreach (var name in DatasetCatalog.BuiltInNames())
        {
            var file = DatasetConfig.Load(Path.Combine(Configs, name + ".yaml"));
            var builtIn = DatasetConfig.Parse(ReadResource(name), "");
            Assert.That(JsonSerializer.Serialize(builtIn), Is.EqualTo(JsonSerializer.Serialize(file)), name);
        }
    }

    [Test]
    public void SweepFilesAreNotDatasets()
    {
        Assert.That(DatasetCatalog.Names(), Does.Not.Contain("study").And.Not.Contain("ci-sweep"));
        Assert.That(DatasetCatalog.BuiltInNames(), Does.Not.Contain("study").And.Not.Contain("ci-sweep"));
    }

    static string ReadResource(string name)
    {
        using var stream = typeof(DatasetCatalog).Assembly.GetManifestResourceStream($"ShiftBench.Configs.{name}.yaml")!;
        return new StreamReader(stream).ReadToEnd();
    }
}
