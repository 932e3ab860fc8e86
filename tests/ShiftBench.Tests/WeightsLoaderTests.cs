using ShiftBench.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Tests;

[Category(TestTier.Fast)]
public class WeightsLoaderTests
{
    /// <summary>The fixture script's tiny network, with the same state-dict names.</summary>
    private static nn.Module<Tensor, Tensor> TinyNet() => nn.Sequential(
        ("0", nn.Conv2d(3, 4, 3)), ("1", nn.BatchNorm2d(4)), ("2", nn.ReLU()),
        ("3", nn.AdaptiveAvgPool2d(1)), ("4", nn.Flatten()), ("5", nn.Linear(4, 5)));

    private static void LoadFixture(nn.Module module, string @case, string format)
    {
        var stateDict = PthFile.ReadStateDict(WeightsFixtures.File(@case, format));
        try
        {
            StateDictLoader.Load(module, stateDict, $"{@case}_{format}.pth", "tiny");
        }
        finally
        {
            foreach (var t in stateDict.Values) t.Dispose();
        }
    }

    [TestCase("tiny_nan", "zip", "0.weight (1 NaN, 0 infinite of 108)")]
    [TestCase("tiny_nan", "legacy", "0.weight (1 NaN, 0 infinite of 108)")]
    [TestCase("tiny_inf", "zip", "5.bias (0 NaN, 1 infinite of 5)")]
    public void NonFiniteWeightsAreRefusedNamingTheTensor(string @case, string format, string named)
    {
        var net = TinyNet();
        var before = net.state_dict().ToDictionary(e => e.Key, e => e.Value.clone());
        var error = Assert.Throws<ShiftBenchException>(() => LoadFixture(net, @case, format))!;
        Assert.That(error.Message, Does.StartWith($"{@case}_{format}.pth holds non-finite values in 1 tensor: {named}"));
        foreach (var (name, value) in net.state_dict())
            Assert.That(value.equal(before[name]).all().item<bool>(), name + " is unchanged");
    }

    [TestCase("tiny", "zip")]
    [TestCase("tiny", "legacy")]
    [TestCase("wrapped", "zip")]
    [TestCase("wrapped", "legacy")]
    [TestCase("module_prefixed", "zip")]
    [TestCase("tiny_double", "legacy")]
    public void LoadedModuleComputesWhatPyTorchComputed(string @case, string format)
    {
        using var scope = NewDisposeScope();
        var net = TinyNet();
        LoadFixture(net, @case, format);
        net.eval();

        var (inputShape, input) = WeightsFixtures.Forward("input");
        var (outputShape, expected) = WeightsFixtures.Forward("output");
        using var _ = no_grad();
        var output = net.call(tensor(input).reshape(inputShape));

        Assert.That(output.shape, Is.EqualTo(outputShape));
        var actual = output.reshape(-1).data<float>().ToArray();
        Assert.That(actual, Is.EqualTo(expected).Within(1e-5f));
        // The batch-norm counter is an int64 buffer and arrives as one.
        var counter = net.state_dict()["1.num_batches_tracked"];
        Assert.That(counter.dtype, Is.EqualTo(ScalarType.Int64));
        Assert.That(counter.item<long>(), Is.EqualTo(3));
    }

    [Test]
    public void KeepsTheModulesDtype()
    {
        using var scope = NewDisposeScope();
        var net = TinyNet();
        net.to(ScalarType.Float64);
        LoadFixture(net, "tiny", "zip");
        var expected = WeightsFixtures.Entries("tiny").Single(e => e.Name == "5.weight");
        var weight = net.state_dict()["5.weight"];
        Assert.That(weight.dtype, Is.EqualTo(ScalarType.Float64));
        Assert.That(weight.reshape(-1).data<double>().ToArray(),
            Is.EqualTo(expected.Values.Select(v => (double)(float)v).ToArray()));
    }

    [TestCase("zip")]
    [TestCase("legacy")]
    public void FileOfAnotherArchitectureIsRefusedWithEveryDifference(string format)
    {
        using var scope = NewDisposeScope();
        var net = TinyNet();
        var before = net.state_dict().ToDictionary(e => e.Key, e => e.Value.clone());
        var file = WeightsFixtures.Entries("other_arch").ToDictionary(e => e.Name, e => e.Shape);
        var model = net.state_dict().ToDictionary(e => e.Key, e => e.Value.shape);

        var e = Assert.Throws<ShiftBenchException>(() => LoadFixture(net, "other_arch", format));
        string message = e!.Message;
        Assert.That(message, Does.StartWith($"other_arch_{format}.pth does not fit tiny: "));

        // What must be listed follows from the two architectures (PyTorch's names and shapes).
        var missing = model.Keys.Where(k => !file.ContainsKey(k)).ToList();
        var unexpected = file.Keys.Where(k => !model.ContainsKey(k)).ToList();
        var mismatched = file.Where(f => model.TryGetValue(f.Key, out var s) && !s.SequenceEqual(f.Value)).ToList();
        Assert.That(missing, Is.EquivalentTo(new[] { "1.weight", "1.bias" }));
        Assert.That(unexpected, Is.EquivalentTo(new[] { "7.weight", "7.bias" }));
        Assert.That(mismatched, Has.Count.GreaterThan(3));

        Assert.That(message, Does.Contain($"missing 2 keys ({string.Join(", ", missing)})"));
        Assert.That(message, Does.Contain($"unexpected 2 keys ({string.Join(", ", unexpected)})"));
        foreach (var (name, shape) in mismatched)
            Assert.That(message, Does.Contain($"{name} file [{string.Join(",", shape)}] vs model [{string.Join(",", model[name])}]"));

        // Nothing was copied.
        foreach (var (name, value) in net.state_dict())
            Assert.That(value.allclose(before[name], rtol: 0, atol: 0), Is.True, name);
    }

    [Test]
    public void ManyDifferencesAreSummarised()
    {
        using var scope = NewDisposeScope();
        var net = TinyNet();
        var stateDict = net.state_dict().ToDictionary(e => e.Key, e => e.Value.clone());
        for (int i = 0; i < 20; i++) stateDict[$"extra.{i:D2}"] = zeros(1);

        var e = Assert.Throws<ShiftBenchException>(() => StateDictLoader.Load(net, stateDict, "x.pth", "tiny"));
        int more = 20 - StateDictLoader.ListedNames;
        Assert.That(e!.Message, Does.Contain("unexpected 20 keys (extra.00, extra.01, ").And.Contain($"and {more} more)"));
        Assert.That(e.Message, Does.Not.Contain($"extra.{StateDictLoader.ListedNames:D2}"));
        Assert.That(e.Message, Does.Not.Contain("missing"));
    }
}
