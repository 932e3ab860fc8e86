using System.Text.Json;
using System.Text.Json.Nodes;
using ShiftBench.Analysis;
using ShiftBench.Datasets;
using ShiftBench.Models;
using ShiftBench.Output;
using ShiftBench.Runs;
using static TorchSharp.torch;

namespace ShiftBench.Tests;

/// <summary>
/// Module-path layers of zoo networks (`--layers layer3@gap,layer4.2.conv3`): against PyTorch forward hooks
/// (tools/fixtures/make_layer_fixtures.py), the name rules and errors, and whole runs through the CLI.
/// </summary>
[NonParallelizable]
public class ModuleLayerTests
{
    const double Tolerance = 1e-4; // max|ours - PyTorch| / max|PyTorch| per layer

    /// <summary>A 3x3 grid of 64x64 crops of the plane: module layers of any network in seconds.</summary>
    internal static string TinyDataset(string dir, int stride = 8)
    {
        string yaml = Path.Combine(dir, "tiny.yaml");
        File.WriteAllText(yaml, $"name: tiny\nkind: crop\nsource: plane.png\nresize: 80\ncanvas: {{size: 64}}\nstride: {stride}\ntarget_class: 895\n");
        return yaml;
    }

    public static IEnumerable<TestCaseData> Cases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("layers.json")));
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
            yield return new TestCaseData(c.GetProperty("model").GetString(), c.GetProperty("structure").GetString())
                .SetName($"{c.GetProperty("model").GetString()} {c.GetProperty("structure").GetString()}");
    }

    /// <summary>Each fixture layer through the run's own path (ZooLayers.Taps, FeatureTaps, LayerSpec.Reduce) on deterministic weights.</summary>
    [TestCaseSource(nameof(Cases))]
    public void ModuleLayersMatchPyTorchHooks(string model, string structure)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("layers.json")));
        var c = doc.RootElement.GetProperty("cases").EnumerateArray()
            .Single(x => x.GetProperty("model").GetString() == model && x.GetProperty("structure").GetString() == structure);
        int filter = c.GetProperty("filter_size").GetInt32(), size = c.GetProperty("input_size").GetInt32();
        var entry = ModelRegistry.All.First(e => e.Model == model && e.FilterSize == filter);
        var fixture = c.GetProperty("layers").EnumerateObject().ToList();
        var layers = ZooLayers.Resolve(entry, [string.Join(",", fixture.Select(l => l.Name))]);
        Assert.That(layers, Is.EqualTo(fixture.Select(l => l.Name)), "module layers are named as written");

        foreach (var layer in fixture)
        {
            var (spec, module) = ZooLayers.Find(entry, layer.Name, size);
            Assert.That(module.Path, Is.EqualTo(layer.Value.GetProperty("module").GetString()), $"{layer.Name}: module hooked");
            Assert.That(module.Output, Is.EqualTo(layer.Value.GetProperty("output_shape").EnumerateArray().Select(d => d.GetInt64())), $"{layer.Name}: output shape");
            Assert.That(spec.Text, Is.EqualTo(layer.Name));
        }

        // The module tree as PyTorch's named_modules sees it, with each module's output shape (what `models --layers` lists).
        var pytorch = c.GetProperty("modules").EnumerateArray()
            .ToDictionary(m => m[0].GetString()!, m => ModuleShape.ShapeText([.. m[1].EnumerateArray().Select(d => d.GetInt64())]));
        Assert.That(ZooLayers.Shapes(entry, size).ToDictionary(m => m.Path, m => ModuleShape.ShapeText(m.Output)), Is.EquivalentTo(pytorch), "module paths and output shapes");

        using var scope = NewDisposeScope();
        var net = entry.Build();
        DeterministicWeights.Fill(net);
        using var network = new TorchFeatureNetwork(net, ZooLayers.Taps(entry, layers, size));
        var outputs = network.Forward(DeterministicWeights.ParityInput(2, size));
        var report = new List<string>();
        Assert.Multiple(() =>
        {
            foreach (var layer in fixture)
            {
                var (error, statsError) = ZooTests.Compare(outputs[layer.Name], layer.Value);
                report.Add($"{layer.Name} {error:E1}");
                Assert.That(error, Is.LessThanOrEqualTo(Tolerance), $"{model} {structure} {layer.Name}: sampled values");
                Assert.That(statsError, Is.LessThanOrEqualTo(Tolerance), $"{model} {structure} {layer.Name}: mean and max|x|");
            }
        });
        TestContext.Out.WriteLine($"{model} {structure} at {size}x{size}: {string.Join(", ", report)}");
        foreach (var t in outputs.Values) t.Dispose();
    }

    [Test]
    [Category(TestTier.Fast)]
    public void NamesResolveAsWrittenAndStagesExpand()
    {
        var resnet = ModelRegistry.Find("resnet18", ModelVariant.Torchvision);
        Assert.That(ZooLayers.Resolve(resnet, ["class,layer3@gap", "FC", "layer4.1.conv2"]), Is.EqualTo(new[] { "layer3@gap", "layer4.1.conv2", "fc", "class" }),
            "module paths first as written, then named layers in study order");
        Assert.That(ZooLayers.Resolve(resnet, ["fc,class"]), Is.EqualTo(new[] { "fc", "class" }), "named layers as before");
        Assert.That(ZooLayers.Resolve(resnet, []), Is.EqualTo(resnet.Layers));
        Assert.That(ZooLayers.Resolve(resnet, ["stages"]), Is.EqualTo(new[] { "maxpool@gap", "layer1@gap", "layer2@gap", "layer3@gap", "layer4@gap", "pool", "fc" }));
        Assert.That(ZooLayers.StageLayers(ModelRegistry.Find("alexnet", "antialiased-lpf3")).Select(s => s.Stage + "=" + s.Layer),
            Is.EqualTo(new[] { "conv1=features.2@gap", "pool1=features.4@gap", "pool2=features.8@gap", "pool5=features.16@gap", "pool=pool", "fc6=fc6", "fc6relu=fc6relu", "fc7=fc7", "fc7relu=fc7relu", "fc=fc" }));

        var dense = ModelRegistry.Find("densenet121", ModelVariant.Torchvision);
        Assert.That(ZooLayers.Find(dense, "transition1@map", 64).Module.Path, Is.EqualTo("features.transition1"), "short DenseNet name");
        Assert.That(ZooLayers.Find(dense, "transition1@map", 64).Module.Output, Is.EqualTo(new long[] { 128, 8, 8 }));
    }

    [TestCase("resnet18", "layer5@gap", "unknown layer 'layer5@gap' for resnet18 (--layers)", "'layer4'")]
    [TestCase("resnet18", "layer4.2.conv3", "unknown layer 'layer4.2.conv3' for resnet18 (--layers)", "'layer4.1.conv2'")]
    [TestCase("resnet18", "fc@gap", "'fc' is a named layer of resnet18", "without '@'")]
    [TestCase("vgg11", "classifier.3@map", "@map keeps a 4-D [N,C,H,W] map", "classifier.3@flat")]
    [TestCase("vgg11", "classifier.0@gap", "@gap pools a 4-D [N,C,H,W] map but 'classifier.0' has shape [N,4096]", "classifier.0@flat")]
    [TestCase("resnet18", "layer3@max", "unknown reduction '@max'", "NAME@map")]
    [Category(TestTier.Fast)]
    public void BadModuleLayersSayWhatToWrite(string model, string layer, string message, string hint)
    {
        var entry = ModelRegistry.Find(model, ModelVariant.Torchvision);
        var error = Assert.Throws<ShiftBenchException>(() => ZooLayers.Check(entry, ZooLayers.Resolve(entry, [layer]), 64))!;
        Assert.That(error.Message, Does.Contain(message).And.Contain(hint));
        Assert.That(error.Message, Does.Not.Contain("\n"));
    }

    /// <summary>The CLI end to end: module layers run, are named as written, recorded with their shapes, and change the fingerprint.</summary>
    [Test]
    public void RunWritesModuleLayersNamedAsWritten()
    {
        using var dir = TestPaths.NewTempDir();
        string dataset = TinyDataset(dir.Path);
        string outA = Path.Combine(dir.Path, "a"), outB = Path.Combine(dir.Path, "b");
        var a = TestCli.Run("run", "--model", "resnet50", "--variant", "torchvision", "--dataset", dataset, "--weights", "deterministic",
            "--layers", "layer3@gap,layer4.2.conv3,layer2.0.downsample@map,class", "--batch-size", "4", "--out", outA, "--features", "fp32");
        Assert.That(a.Code, Is.EqualTo(0), a.Stderr);
        string run = Path.Combine(outA, "tiny", "resnet50", "torchvision");
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(run, RunLayout.RunJson)))!;
        Assert.That(json["layers"]!.AsArray().Select(l => l!.GetValue<string>()), Is.EqualTo(new[] { "layer3@gap", "layer4.2.conv3", "layer2.0.downsample@map", "class" }));
        var modules = json["modules"]!;
        Assert.That(modules["layer4.2.conv3"]!["reduction"]!.GetValue<string>(), Is.EqualTo("gap"));
        Assert.That(modules["layer4.2.conv3"]!["module"]!.GetValue<string>(), Is.EqualTo("layer4.2.conv3"));
        Assert.That(modules["layer2.0.downsample@map"]!["shape"]!.AsArray().Select(d => d!.GetValue<long>()), Is.EqualTo(new long[] { 512, 8, 8 }));

        using (var gap = NpyRowFile.OpenRead(Path.Combine(run, "features-layer3@gap.npy")))
            Assert.That((gap.Rows, gap.Cols), Is.EqualTo((9L, 1024L)));
        using (var map = NpyRowFile.OpenRead(Path.Combine(run, "features-layer2.0.downsample@map.npy")))
            Assert.That((map.Rows, map.Cols), Is.EqualTo((9L, 512L * 8 * 8)), "a map is stored as [N, C*H*W]");
        foreach (var anchor in Anchors.Named)
            Assert.That(File.Exists(Path.Combine(run, $"cos-layer4.2.conv3-{anchor}.csv")), anchor);
        Assert.That(File.ReadAllText(Path.Combine(run, RunLayout.SummaryCsv)), Does.Contain("layer3@gap,global,"));

        // The same layer as a mean over the map agrees with the stored map's own mean per channel.
        var b = TestCli.Run("run", "--model", "resnet50", "--variant", "torchvision", "--dataset", dataset, "--weights", "deterministic",
            "--layers", "layer2.0.downsample@gap", "--batch-size", "4", "--out", outB, "--features", "fp32");
        Assert.That(b.Code, Is.EqualTo(0), b.Stderr);
        string runB = Path.Combine(outB, "tiny", "resnet50", "torchvision");
        float[] mapRows = ReadAll(Path.Combine(run, "features-layer2.0.downsample@map.npy"), out _);
        float[] gapRows = ReadAll(Path.Combine(runB, "features-layer2.0.downsample@gap.npy"), out long gapCols);
        Assert.That(gapCols, Is.EqualTo(512));
        double worst = 0;
        for (int r = 0; r < 9; r++)
            for (int ch = 0; ch < 512; ch++)
            {
                double mean = 0;
                for (int i = 0; i < 64; i++) mean += mapRows[(r * 512 + ch) * 64 + i];
                worst = Math.Max(worst, Math.Abs(mean / 64 - gapRows[r * 512 + ch]));
            }
        Assert.That(worst, Is.LessThan(1e-4), "@map rows reshape to [C,H,W] as recorded");
        Assert.That(JsonNode.Parse(File.ReadAllText(Path.Combine(runB, RunLayout.RunJson)))!["fingerprint"]!.GetValue<string>(),
            Is.Not.EqualTo(json["fingerprint"]!.GetValue<string>()), "the fingerprint changes with the layers");
    }

    [Test]
    public void UnknownModulePathStopsTheRunBeforeAnyFile()
    {
        using var dir = TestPaths.NewTempDir();
        var r = TestCli.Run("run", "--model", "resnet50", "--variant", "torchvision", "--dataset", TinyDataset(dir.Path), "--weights", "deterministic",
            "--layers", "layer3@gap,layer4.9.conv3", "--out", Path.Combine(dir.Path, "out"));
        Assert.That(r.Code, Is.EqualTo(2), r.Stderr);
        Assert.That(r.Stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(1), r.Stderr);
        Assert.That(r.Stderr, Does.Contain("unknown layer 'layer4.9.conv3' for resnet50 (--layers)").And.Contain("nearest: ").And.Contain("'layer4.2.conv3'"));
        Assert.That(Directory.Exists(Path.Combine(dir.Path, "out")), Is.False);
    }

    [Test]
    public void ModelsListsNamedLayersStagesAndEveryModulePath()
    {
        var text = TestCli.Run("models", "--layers", "resnet18");
        Assert.That(text.Code, Is.EqualTo(0), text.Stderr);
        var lines = text.Stdout.Split('\n');
        Assert.That(lines[0], Does.StartWith("resnet18 (torchvision), 224x224 input"));
        Assert.That(lines, Has.Some.Match(@"^  pool +\[512\] +input of fc$"));
        Assert.That(lines, Has.Some.Match(@"^  fc +\[1000\] +logits"));
        Assert.That(lines, Has.Some.EqualTo("stages (--layers stages): stem=maxpool@gap layer1=layer1@gap layer2=layer2@gap layer3=layer3@gap layer4=layer4@gap pool fc"));
        Assert.That(lines, Has.Some.Match(@"^  layer4\.1\.conv2 +\[512,7,7\] +Conv2d$"));
        Assert.That(lines, Has.Some.Match(@"^  layer3 +\[256,14,14\] +Sequential$"));

        var json = TestCli.Run("models", "--layers", "densenet121", "--variant", "antialiased", "--json");
        Assert.That(json.Code, Is.EqualTo(0), json.Stderr);
        var root = JsonNode.Parse(json.Stdout)!;
        Assert.That(root["variant"]!.GetValue<string>(), Is.EqualTo("antialiased"));
        var entry = ModelRegistry.Find("densenet121", ModelVariant.Antialiased);
        var listed = root["modules"]!.AsArray().Select(m => (m!["path"]!.GetValue<string>(), ModuleShape.ShapeText([.. m["shape"]!.AsArray().Select(d => d!.GetValue<long>())])));
        Assert.That(listed, Is.EqualTo(ZooLayers.Shapes(entry, 224).Select(m => (m.Path, ModuleShape.ShapeText(m.Output)))));
        Assert.That(listed.First(m => m.Item1 == "features.denseblock4").Item2, Is.EqualTo("[1024,7,7]"));
        Assert.That(root["named"]!.AsArray().Select(n => n!["name"]!.GetValue<string>()), Is.EqualTo(new[] { "pool", "fc", "class" }));
        Assert.That(root["stages"]!.AsArray().Select(n => n!["stage"]!.GetValue<string>()), Is.EqualTo(new[] { "stem", "denseblock1", "denseblock2", "denseblock3", "denseblock4", "norm5", "pool", "fc" }));

        var bad = TestCli.Run("models", "--layers", "resnet17");
        Assert.That(bad.Code, Is.EqualTo(2));
        Assert.That(bad.Stderr, Does.Contain("unknown model 'resnet17'"));
    }

    static float[] ReadAll(string path, out long cols)
    {
        using var f = NpyRowFile.OpenRead(path);
        var buffer = new float[f.Rows * f.Cols];
        f.ReadRows(0, buffer);
        cols = f.Cols;
        return buffer;
    }
}
