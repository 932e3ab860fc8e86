using NUnit.Framework;
using ShiftBench.Models;
using static TorchSharp.torch;

namespace ShiftBench.Tests;

[Category(TestTier.Fast)]
public class StridedMaxPoolTests
{
    // Every max pool of the zoo (kernel, stride, padding), on odd and even maps.
    [TestCase(3, 2, 0), TestCase(3, 1, 0), TestCase(2, 2, 0), TestCase(2, 1, 0), TestCase(3, 2, 1), TestCase(3, 1, 1)]
    public void HasTheBitsOfLibtorchsMaxPool(int kernel, int stride, int padding)
    {
        using var scope = NewDisposeScope();
        manual_seed(kernel * 10 + stride + padding);
        foreach (var (h, w) in new[] { (13, 13), (14, 17), (55, 55) })
        {
            var x = randn(2, 3, h, w);
            x[0, 1, 4, 5] = tensor(float.NaN); // a NaN wins its windows in both
            var expected = nn.functional.max_pool2d(x, kernel, stride, padding);
            var actual = new StridedMaxPool2d(kernel, stride, padding).call(x);
            Assert.That(actual.shape, Is.EqualTo(expected.shape), $"{h}x{w}");
            Assert.That(actual.data<float>().ToArray(), Is.EqualTo(expected.data<float>().ToArray()), $"{h}x{w}");
            Assert.That(actual.isnan().any().item<bool>(), Is.True);
        }
    }

    [Test]
    public void RefusesPaddingOverHalfTheKernel() =>
        Assert.Throws<ArgumentException>(() => new StridedMaxPool2d(3, 2, 2));
}
