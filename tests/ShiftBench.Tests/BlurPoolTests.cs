using ShiftBench.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Tests;

[Category(TestTier.Fast)]
public class BlurPoolTests
{
    [Test]
    public void FiltersAreNormalisedBinomialOuterProducts()
    {
        // Pascal's-triangle rows from the paper: [1], [1 1], [1 2 1], [1 3 3 1], [1 4 6 4 1], ...
        double[][] rows = [[1], [1, 1], [1, 2, 1], [1, 3, 3, 1], [1, 4, 6, 4, 1], [1, 5, 10, 10, 5, 1], [1, 6, 15, 20, 15, 6, 1]];
        foreach (var row in rows)
        {
            int k = row.Length;
            using var filter = BlurPool.ExpectedFilter(3, k);
            Assert.That(filter.shape, Is.EqualTo(new long[] { 3, 1, k, k }));
            double total = row.Sum() * row.Sum();
            for (int c = 0; c < 3; c++)
                for (int i = 0; i < k; i++)
                    for (int j = 0; j < k; j++)
                        Assert.That(filter[c, 0, i, j].item<float>(), Is.EqualTo((float)(row[i] * row[j] / total)), $"k={k} ({i},{j})");
        }
    }

    [Test]
    public void FilterIsARegisteredBufferNamedFilt()
    {
        using var blur = new BlurPool(8, filterSize: 5);
        var state = blur.state_dict();
        Assert.That(state.Keys, Is.EquivalentTo(new[] { "filt" }));
        Assert.That(state["filt"].shape, Is.EqualTo(new long[] { 8, 1, 5, 5 }));
        Assert.That(blur.parameters(), Is.Empty);
    }

    [Test]
    public void ReflectPaddingKeepsConstantsAndStrideHalvesTheSize()
    {
        using var blur = new BlurPool(2, filterSize: 5, stride: 2);
        using var output = blur.call(full(new long[] { 1, 2, 9, 10 }, 3.0f));
        Assert.That(output.shape, Is.EqualTo(new long[] { 1, 2, 5, 5 }));
        Assert.That(output.sub(3.0f).abs().max().item<float>(), Is.LessThan(1e-6f));
    }

    [Test]
    public void SizeThreeFilterAveragesNeighboursWithReflectedBorder()
    {
        // 1-D by a single row: reflect pad [a b c d] -> [b a b c d c], taps 1/4 1/2 1/4, stride 2.
        using var blur = new BlurPool(1, filterSize: 3, stride: 2);
        using var input = tensor(new float[] { 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4 }).reshape(1, 1, 3, 4);
        using var output = blur.call(input);
        // rows are identical, so the vertical blur leaves them as they are
        Assert.That(output[0, 0, 0].data<float>().ToArray(), Is.EqualTo(new[] { 0.25f * 2 + 0.5f * 1 + 0.25f * 2, 0.25f * 2 + 0.5f * 3 + 0.25f * 4 }));
    }

    [Test]
    public void VerifyFiltersNamesTheModuleWhoseFilterWasReplaced()
    {
        using var net = ModelRegistry.Find("resnet50", ModelVariant.Antialiased).Build();
        Assert.That(BlurPool.VerifyFilters(net), Is.EqualTo(7));
        using (no_grad())
            net.state_dict()["layer3.0.conv3.0.filt"].copy_(ones(256, 1, 5, 5).div(25)); // a box filter, not the binomial one
        var error = Assert.Throws<ShiftBenchException>(() => BlurPool.VerifyFilters(net));
        Assert.That(error!.Message, Does.Contain("layer3.0.conv3.0"));
    }
}
