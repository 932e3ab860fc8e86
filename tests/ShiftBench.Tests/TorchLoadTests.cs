using ShiftBench.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Tests;

[Category(TestTier.Fast)]
public class TorchLoadTests
{
    [Test]
    public void NativeTorchLoadsAndRunsAForwardPass()
    {
        // Fails if libLibTorchSharp.so cannot load (GLIBCXX_3.4.32 need not made weak by the build).
        using var scope = NewDisposeScope();
        var model = ModelRegistry.Find("resnet50", ModelVariant.Torchvision).Build();
        model.eval();
        using var _ = no_grad();
        var logits = model.call(randn(2, 3, 224, 224));
        Assert.That(logits.shape, Is.EqualTo(new long[] { 2, 1000 }));
        Assert.That(logits[0].sub(logits[1]).abs().max().item<float>(), Is.GreaterThan(0f));
    }
}
