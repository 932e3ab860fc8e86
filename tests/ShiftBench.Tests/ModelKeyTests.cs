using ShiftBench.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Tests;

/// <summary>
/// Every zoo network's state dict must have exactly PyTorch's keys and shapes (listed by
/// tools/fixtures/make_parity_fixtures.py from torchvision 0.14 and Zhang's reference code), so the
/// published weight files load without renaming.
/// </summary>
public class ModelKeyTests
{
    public static IEnumerable<TestCaseData> Networks() =>
        ModelRegistry.All.Select(e => new TestCaseData(e.Model, e.VariantName).SetName($"Keys_{e.Model}_{e.VariantName}"));

    [TestCaseSource(nameof(Networks))]
    public void StateDictKeysAndShapesMatchPyTorch(string model, string variant)
    {
        var expected = File.ReadAllLines(Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "keys", $"{model}_{variant}.txt"))
            .Where(line => line.Length > 0)
            .Select(line => line.Split('\t'))
            .Select(parts => (Key: parts[0], Shape: parts.Length > 1 ? parts[1] : ""))
            .ToList();

        using var scope = NewDisposeScope();
        using var net = ModelRegistry.Find(model, ModelRegistry.ParseVariant(variant)).Build();
        var actual = net.state_dict().Select(kv => (Key: kv.Key, Shape: string.Join(",", kv.Value.shape))).ToList();

        var missing = expected.Select(e => e.Key).Except(actual.Select(a => a.Key)).ToList();
        var extra = actual.Select(a => a.Key).Except(expected.Select(e => e.Key)).ToList();
        Assert.That(missing, Is.Empty, "keys PyTorch has and we lack");
        Assert.That(extra, Is.Empty, "keys we have and PyTorch lacks");
        var shapes = actual.ToDictionary(a => a.Key, a => a.Shape);
        Assert.Multiple(() =>
        {
            foreach (var (key, shape) in expected)
                Assert.That(shapes[key], Is.EqualTo(shape), $"shape of {key}");
        });
    }

    [TestCaseSource(nameof(Networks))]
    public void EveryTapNamesAModuleOfTheNetwork(string model, string variant)
    {
        var entry = ModelRegistry.Find(model, ModelRegistry.ParseVariant(variant));
        using var net = entry.Build();
        var names = net.named_modules().Select(m => m.name).ToHashSet();
        foreach (var tap in entry.Taps)
            Assert.That(names, Does.Contain(tap.Module), $"tap {tap.Name}");
    }

    [Test]
    public void BuiltModelsStartInEvalMode()
    {
        foreach (var entry in ModelRegistry.All.Where(e => e.Model is "alexnet" or "mobilenet_v2"))
        {
            using var net = entry.Build();
            Assert.That(net.modules().All(m => !m.training), Is.True, $"{entry.Model} {entry.VariantName}");
        }
    }
}
