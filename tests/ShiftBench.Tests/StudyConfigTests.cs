using ShiftBench.Analysis;
using ShiftBench.Models;
using ShiftBench.Output;
using ShiftBench.Runs;
using ShiftBench.Site;
using ShiftBench.Workflows;

namespace ShiftBench.Tests;

/// <summary>configs/study.yaml is the whole study: 16 cells, each writing every grid the study's site publishes.</summary>
public class StudyConfigTests
{
    static SweepSpec Study() => SweepSpec.Load(Path.Combine(TestPaths.RepoRoot, "configs", "study.yaml"));

    [Test]
    public void ExpandsToTheStudysSixteenCellsAtStrideOneWithPublishedWeights()
    {
        var spec = Study();
        var cells = Sweep.Cells(spec);
        string[] models = ["alexnet", "vgg16", "resnet50", "mobilenet_v2"];
        var expected = (from m in models from v in new[] { ModelVariant.Torchvision, ModelVariant.Antialiased } from d in StudySite.Datasets
                        select $"{m}/{v}/{d}/stride-1").ToList();
        Assert.That(cells.Select(c => c.Name), Is.EquivalentTo(expected));
        Assert.That(cells.Select(c => c.ConfigError), Has.All.Null);
        Assert.That(spec.Weights, Is.Null, "the study uses the published weights, not synthetic ones");
        Assert.That(spec.Precision, Is.EqualTo(RunLayout.DefaultPrecision));
        Assert.That(spec.Out, Is.EqualTo("out"), "`shiftbench report out` must find the runs");
        Assert.That(cells.Select(c => c.RunDirectory), Is.Unique);
    }

    [Test]
    public void EveryCellWritesTheSitesLayersAndAnchors()
    {
        var spec = Study();
        foreach (var cell in Sweep.Cells(spec))
        {
            var entry = ModelRegistry.Find(cell.Model, cell.Variant);
            var layers = ZooLayers.Resolve(entry, spec.Layers);
            IReadOnlyList<string> anchors = spec.Anchors.Count > 0 ? spec.Anchors : Anchors.Named;
            var site = StudySite.Files(entry, cell.DatasetName);
            Assert.That(site.Select(f => f.Layer).Distinct(), Is.SubsetOf(layers), cell.Name);
            Assert.That(layers.Except(site.Select(f => f.Layer)), Is.EquivalentTo(new[] { "pool" }), $"{cell.Name}: only pool is written beyond the site's layers");
            Assert.That(site.Where(f => !f.IsClass).Select(f => f.Anchor).Distinct(), Is.EquivalentTo(anchors), cell.Name);
        }
    }
}
