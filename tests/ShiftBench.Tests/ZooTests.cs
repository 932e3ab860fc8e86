using System.Text.Json;
using ShiftBench.Models;
using ShiftBench.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Tests;

/// <summary>
/// Every network of the registry against PyTorch (torchvision 0.14 and Zhang's reference code, via
/// tools/fixtures/make_zoo_fixtures.py): state-dict keys and shapes, loading the published key names from
/// real torch.save files, and every stage and layer on deterministic weights. Cases come from the registry,
/// so a new table entry is tested without new test code (and fails until its fixtures exist).
/// </summary>
[NonParallelizable]
public class ZooTests
{
    const double Tolerance = 1e-4; // max|ours - PyTorch| / max|PyTorch| per layer

    static string FixtureDir => Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures");

    /// <summary>One case per network structure: variants sharing a structure (lpf4 and lpf4-finetune, antialiased and its file) differ only in the file.</summary>
    public static IEnumerable<TestCaseData> Structures() =>
        ModelRegistry.All.DistinctBy(e => (e.Model, e.FilterSize))
            .Select(e => new TestCaseData(e.Model, e.VariantName).SetName($"{e.Model} {StructureOf(e)}"))
            .Select(c => FastStructures.Contains(c.TestName!) ? c.SetCategory(TestTier.Fast) : c);

    /// <summary>The fast tier: the smallest network of each family (VGG with and without batch norm), torchvision and antialiased.</summary>
    static readonly HashSet<string> FastStructures =
    [
        "alexnet torchvision", "alexnet lpf4", "vgg11 torchvision", "vgg11_bn lpf4", "resnet18 torchvision", "resnet18 lpf4",
        "mobilenet_v2 torchvision", "mobilenet_v2 lpf4", "densenet121 torchvision", "densenet121 lpf4",
    ];

    static string StructureOf(ModelEntry e) => e.IsAntialiased ? $"lpf{e.FilterSize}" : ModelVariant.Torchvision;

    [Test]
    public void CommittedZooTableIsTheRegistry()
    {
        // tools/fixtures reads this copy; regenerate it with `shiftbench models --json > tests/ShiftBench.Tests/Fixtures/zoo.json`.
        Assert.That(File.ReadAllText(Path.Combine(FixtureDir, "zoo.json")), Is.EqualTo(ZooTable.Json()));
    }

    [Test]
    public void EveryPublishedFileIsListedOnceWithItsVariant()
    {
        var files = ModelRegistry.Architectures.SelectMany(a => a.Weights).ToList();
        Assert.That(files.Select(w => w.FileName), Is.Unique);
        Assert.That(ModelRegistry.Architectures, Has.Count.EqualTo(23));
        Assert.That(files.Count(w => w.VariantName == ModelVariant.Torchvision), Is.EqualTo(23));
        Assert.That(files.Count(w => w.VariantName == "antialiased-lpf4-finetune"), Is.EqualTo(23));
        foreach (var k in new[] { 2, 3, 4, 5 })
            Assert.That(files.Where(w => w.VariantName == $"antialiased-lpf{k}").Select(w => w.FileName.Split("_lpf")[0]),
                Is.EquivalentTo(new[] { "alexnet", "vgg16", "vgg16_bn", "resnet18", "resnet34", "resnet50", "resnet101", "densenet121", "mobilenet_v2" }), $"lpf{k}");
        foreach (var a in ModelRegistry.Architectures)
        {
            var study = ModelRegistry.Find(a.Name, ModelVariant.Antialiased);
            bool fromScratch = a.Weights.Any(w => w.VariantName == "antialiased-lpf5");
            Assert.That(study.FileName, Does.Contain(fromScratch ? "_lpf5-" : "_lpf4_finetune-"), a.Name);
            Assert.That(study.Url, Does.EndWith("/weights_v0.1/" + study.FileName));
        }
    }

    /// <summary>
    /// One build per structure (building and filling the large networks dominates the time): the state
    /// dict has PyTorch's keys and shapes; torch.save files with the published key names load through the
    /// run's loader (torchvision: bare, zip format, DenseNet's old `norm.1` names; antialiased:
    /// {"state_dict": ...}, legacy format; fixtures exist for the torchvision and filter-4 structures, which
    /// every published variant name of those structures loads); then, on deterministic weights, every stage,
    /// tap, fc and class match PyTorch.
    /// </summary>
    [TestCaseSource(nameof(Structures))]
    public void MatchesPyTorch(string model, string variant)
    {
        var entry = ModelRegistry.Find(model, variant);
        string form = entry.IsAntialiased ? "antialiased" : "torchvision";
        // The antialiased key list was written at filter size 4; only BlurPool filters ([C, 1, k, k]) depend on the size.
        var expected = File.ReadAllLines(Path.Combine(FixtureDir, "keys", $"{model}_{form}.txt"))
            .Where(line => line.Length > 0)
            .Select(line => line.Split('\t'))
            .ToDictionary(p => p[0], p => p[0].EndsWith(".filt") ? p[1].Replace(",4,4", $",{entry.FilterSize},{entry.FilterSize}") : p.Length > 1 ? p[1] : "");
        var file = Path.Combine(FixtureDir, "weights", "zoo", $"{model}_{form}.pth");
        bool hasFile = entry.FilterSize is 1 or 4;

        using var scope = NewDisposeScope();
        using var net = hasFile ? ModelLoader.Load(entry, WeightsSource.File(file), CPU) : entry.Build();
        var actual = net.state_dict().ToDictionary(kv => kv.Key, kv => string.Join(",", kv.Value.shape));
        Assert.That(actual.Keys.Except(expected.Keys), Is.Empty, "keys we have and PyTorch lacks");
        Assert.That(expected.Keys.Except(actual.Keys), Is.Empty, "keys PyTorch has and we lack");
        Assert.That(actual, Is.EquivalentTo(expected), "shapes");
        var modules = net.named_modules().Select(m => m.name).ToHashSet();
        foreach (var tap in entry.Taps.Concat(entry.Stages))
            Assert.That(modules, Does.Contain(tap.Module), $"layer {tap.Name}");
        Assert.That(net.modules().All(m => !m.training), "built in eval mode");
        Assert.That(BlurPool.VerifyFilters(net), entry.IsAntialiased ? Is.GreaterThan(0) : Is.Zero, "BlurPools");
        if (hasFile)
            foreach (var (key, value) in net.state_dict())
                if (!key.EndsWith(".filt") && value.dtype == ScalarType.Float32)
                    Assert.That(value.eq(1).all().item<bool>(), $"{key} was not loaded from {Path.GetFileName(file)} (it holds 1 everywhere)");

        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(FixtureDir, "zoo", model + ".json")));
        int size = doc.RootElement.GetProperty("input_size").GetInt32();
        var reference = doc.RootElement.GetProperty("structures").GetProperty(StructureOf(entry));
        var layers = entry.Stages.Select(s => s.Name).Concat(entry.Layers).ToList();
        Assert.That(reference.EnumerateObject().Select(p => p.Name), Is.EquivalentTo(layers), "layers in the fixture");

        FillDeterministic(model, net);
        var outputs = LayerRecorder.Run(net, entry.Stages.Concat(entry.Taps), DeterministicWeights.ParityInput(2, size));
        try
        {
            var report = new List<string>();
            Assert.Multiple(() =>
            {
                foreach (var layer in layers)
                {
                    var (error, statsError) = Compare(outputs[layer], reference.GetProperty(layer));
                    report.Add($"{layer} {error:E1}");
                    Assert.That(error, Is.LessThanOrEqualTo(Tolerance), $"{model} {variant} {layer}: sampled values");
                    Assert.That(statsError, Is.LessThanOrEqualTo(Tolerance), $"{model} {variant} {layer}: mean and max|x|");
                }
            });
            TestContext.Out.WriteLine($"{model} {StructureOf(entry)} at {size}x{size}: {string.Join(", ", report)}");
        }
        finally
        {
            foreach (var t in outputs.Values) t.Dispose();
        }
    }

    static string? cachedModel;
    static readonly Dictionary<string, Tensor> cachedWeights = [];

    /// <summary>
    /// DeterministicWeights.Fill, reusing the values of keys an earlier structure of the same architecture
    /// already generated (a value depends only on key and shape): VGG's classifier is most of its weights.
    /// </summary>
    static void FillDeterministic(string model, nn.Module net)
    {
        if (cachedModel != model)
        {
            foreach (var t in cachedWeights.Values) t.Dispose();
            cachedWeights.Clear();
            cachedModel = model;
        }
        using var _ = no_grad();
        foreach (var (key, value) in net.state_dict())
        {
            if (DeterministicWeights.Rule(key, value.shape) is null) continue;
            if (cachedWeights.TryGetValue(key, out var known) && known.shape.SequenceEqual(value.shape))
            {
                value.copy_(known);
                continue;
            }
            DeterministicWeights.Fill(key, value);
            var copy = value.clone();
            copy.DetachFromDisposeScope();
            cachedWeights[key] = copy;
        }
    }

    /// <summary>(max sampled |ours - reference|, max of mean and max|x| differences), both relative to the layer's max|x|.</summary>
    internal static (double Error, double StatsError) Compare(Tensor ours, JsonElement layer)
    {
        var shape = layer.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        Assert.That(ours.shape, Is.EqualTo(shape), "layer shape");
        var stride = layer.GetProperty("stride").GetInt64();
        var expected = layer.GetProperty("values").EnumerateArray()
            .Select(row => row.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray()).ToArray();
        var maxAbs = layer.GetProperty("max_abs").GetDouble();
        Assert.That(maxAbs, Is.GreaterThan(0), "reference layer is all zero");

        using var scope = NewDisposeScope();
        var stored = ours.reshape(shape[0], -1)[.., TensorIndex.Slice(step: stride)];
        var reference = tensor(expected.SelectMany(r => r).ToArray()).reshape(expected.Length, -1);
        var error = stored.sub(reference).abs().max().item<float>() / maxAbs;
        var ourMean = ours.to(ScalarType.Float64).mean().item<double>();
        var ourMaxAbs = ours.abs().max().item<float>();
        var statsError = Math.Max(Math.Abs(ourMean - layer.GetProperty("mean").GetDouble()), Math.Abs(ourMaxAbs - maxAbs)) / maxAbs;
        return (error, statsError);
    }
}

/// <summary>Runs a network once and records module outputs/inputs plus fc and class.</summary>
internal static class LayerRecorder
{
    public static Dictionary<string, Tensor> Run(nn.Module<Tensor, Tensor> net, IEnumerable<LayerTap> taps, Tensor input)
    {
        var outputs = new Dictionary<string, Tensor>();
        using var scope = NewDisposeScope();
        var modules = net.named_modules().ToDictionary(m => m.name, m => m.module);
        // Cloned (in-place ReLUs overwrite Linear outputs) and detached from the forward's dispose scope.
        Tensor Keep(Tensor t) => t.detach().clone().DetachFromDisposeScope();
        var removers = new List<Action>();
        foreach (var tap in taps)
        {
            var module = (nn.Module<Tensor, Tensor>)modules[tap.Module];
            var remover = tap.Point == TapPoint.Output
                ? module.register_forward_hook((_, _, output) => { outputs[tap.Name] = Keep(output); return output; })
                : module.register_forward_pre_hook((_, x) => { outputs[tap.Name] = Keep(x); return x; });
            removers.Add(remover.remove);
        }
        using (no_grad())
        {
            var logits = net.call(input);
            outputs[ModelEntry.LogitsLayer] = Keep(logits);
            outputs[ModelEntry.ClassLayer] = Keep(logits.softmax(1));
        }
        foreach (var remove in removers) remove();
        return outputs;
    }
}
