using System.Text.Json;
using ShiftBench.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Tests;

/// <summary>
/// Each zoo network, filled with DeterministicWeights and fed DeterministicWeights.ParityInput, must
/// reproduce PyTorch's logits, softmax and every tapped layer (reference values recorded by
/// tools/fixtures/make_parity_fixtures.py with torch 1.13 / torchvision 0.14 / Zhang's reference code).
/// </summary>
[NonParallelizable]
public class ModelParityTests
{
    const double Tolerance = 1e-4; // max|ours - PyTorch| / max|PyTorch| per layer

    static string ParityDir => Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "parity");

    // ResNet50 first, then MobileNetV2, AlexNet, VGG16.
    [TestCase("resnet50", "torchvision")]
    [TestCase("resnet50", "antialiased")]
    [TestCase("mobilenet_v2", "torchvision")]
    [TestCase("mobilenet_v2", "antialiased")]
    [TestCase("alexnet", "torchvision")]
    [TestCase("alexnet", "antialiased")]
    [TestCase("vgg16", "torchvision")]
    [TestCase("vgg16", "antialiased")]
    public void LayersMatchPyTorch(string model, string variant)
    {
        var entry = ModelRegistry.Find(model, ModelRegistry.ParseVariant(variant));
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(ParityDir, "manifest.json")));
        var reference = manifest.RootElement.GetProperty("networks").GetProperty($"{model}_{variant}");

        var outputs = RunWithTaps(entry);
        try
        {
            Assert.That(reference.EnumerateObject().Select(p => p.Name), Is.EquivalentTo(entry.Layers), "layers in the fixture");
            var report = new List<string>();
            Assert.Multiple(() =>
            {
                foreach (var layer in entry.Layers)
                {
                    var error = RelativeError(outputs[layer], reference.GetProperty(layer), out var statsError);
                    report.Add($"{layer}: {error:E2} (stats {statsError:E2})");
                    Assert.That(error, Is.LessThanOrEqualTo(Tolerance), $"{model} {variant} layer {layer}");
                    Assert.That(statsError, Is.LessThanOrEqualTo(Tolerance), $"{model} {variant} layer {layer} mean/max");
                }
            });
            TestContext.Out.WriteLine($"{model} {variant} max relative error: {string.Join(", ", report)}");
        }
        finally
        {
            foreach (var t in outputs.Values) t.Dispose();
        }
    }

    [Test]
    [Category(TestTier.Fast)]
    public void GeneratorMatchesPythonTwin()
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(ParityDir, "manifest.json")));
        using var scope = NewDisposeScope();
        var input = DeterministicWeights.ParityInput().reshape(-1);
        foreach (var sample in manifest.RootElement.GetProperty("input").GetProperty("samples").EnumerateArray())
        {
            var index = sample.GetProperty("index").GetInt64();
            Assert.That(input[index].item<float>(), Is.EqualTo((float)sample.GetProperty("value").GetDouble()), $"input[{index}]");
        }
        foreach (var sample in manifest.RootElement.GetProperty("weights").EnumerateArray())
        {
            var key = sample.GetProperty("key").GetString()!;
            var weights = empty(sample.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray());
            DeterministicWeights.Fill(key, weights);
            var first = sample.GetProperty("first").EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
            Assert.That(weights.reshape(-1)[..first.Length].data<float>().ToArray(), Is.EqualTo(first), key);
            Assert.That(weights.to(ScalarType.Float64).sum().item<double>(), Is.EqualTo(sample.GetProperty("sum").GetDouble()).Within(1e-9), $"{key} sum");
        }
    }

    /// <summary>Builds the network as the runner does, fills it, and records every tap plus fc and class.</summary>
    static Dictionary<string, Tensor> RunWithTaps(ModelEntry entry)
    {
        var outputs = new Dictionary<string, Tensor>();
        using var scope = NewDisposeScope();
        using var net = entry.Build();
        DeterministicWeights.Fill(net);
        Assert.That(BlurPool.VerifyFilters(net), entry.Variant == ModelVariant.Antialiased ? Is.GreaterThan(0) : Is.Zero);
        net.eval();

        var modules = net.named_modules().ToDictionary(m => m.name, m => m.module);
        // Hooked tensors are cloned (in-place ReLUs overwrite Linear outputs) and detached from the
        // forward's dispose scope (it frees everything it made when it returns).
        Tensor Keep(Tensor t) => t.detach().clone().DetachFromDisposeScope();
        var removers = new List<Action>();
        foreach (var tap in entry.Taps)
        {
            var module = (nn.Module<Tensor, Tensor>)modules[tap.Module];
            var remover = tap.Point == TapPoint.Output
                ? module.register_forward_hook((_, _, output) => { outputs[tap.Name] = Keep(output); return output; })
                : module.register_forward_pre_hook((_, input) => { outputs[tap.Name] = Keep(input); return input; });
            removers.Add(remover.remove);
        }

        using (no_grad())
        {
            var logits = net.call(DeterministicWeights.ParityInput());
            outputs[ModelEntry.LogitsLayer] = Keep(logits);
            outputs[ModelEntry.ClassLayer] = Keep(logits.softmax(1));
        }
        foreach (var remove in removers) remove();
        return outputs;
    }

    /// <summary>
    /// max|ours - reference| / max|reference| over the stored elements (every stride-th of each image),
    /// and the same measure for the full layer's mean and max|x| against the recorded statistics.
    /// </summary>
    static double RelativeError(Tensor ours, JsonElement layer, out double statsError)
    {
        var shape = layer.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        Assert.That(ours.shape, Is.EqualTo(shape), "layer shape");
        var stride = layer.GetProperty("stride").GetInt64();
        var perImage = layer.GetProperty("stored_per_image").GetInt64();

        var bytes = File.ReadAllBytes(Path.Combine(ParityDir, layer.GetProperty("file").GetString()!));
        var expected = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, expected, 0, bytes.Length);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("fixtures are little-endian");

        using var scope = NewDisposeScope();
        var reference = tensor(expected).reshape(shape[0], perImage);
        var stored = ours.reshape(shape[0], -1)[.., TensorIndex.Slice(step: stride)];
        var scale = reference.abs().max().item<float>();
        var error = stored.sub(reference).abs().max().item<float>() / (double)scale;

        var maxAbs = layer.GetProperty("max_abs").GetDouble();
        var mean = layer.GetProperty("mean").GetDouble();
        var ourMean = ours.to(ScalarType.Float64).mean().item<double>();
        var ourMaxAbs = ours.abs().max().item<float>();
        statsError = Math.Max(Math.Abs(ourMean - mean), Math.Abs(ourMaxAbs - maxAbs)) / maxAbs;
        return error;
    }
}
