using NUnit.Framework;
using ShiftBench.Models;
using static TorchSharp.torch;

namespace ShiftBench.Tests;

[Category(TestTier.Fast)]
public class TensorMemoryTests
{
    [Test]
    public void CopiesWhatTheElementAccessorReadsForOffsetAndStridedViews()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var whole = randn(7, 5, 6);
        Tensor[] views = [whole, whole[2..5], whole[.., 1..4, 2..], whole.transpose(0, 2), whole[3]];
        foreach (var view in views)
            Assert.That(TensorMemory.ToFloatArray(view), Is.EqualTo(view.data<float>().ToArray()), string.Join("x", view.shape));
    }

    [Test]
    public void RefusesOtherNumberFormatsAndShortDestinations()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => TensorMemory.ToFloatArray(ones(3, dtype: ScalarType.Float64)));
        Assert.Throws<ArgumentException>(() => TensorMemory.CopyTo(ones(4), new float[3]));
    }
}
