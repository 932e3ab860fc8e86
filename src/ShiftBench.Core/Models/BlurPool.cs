using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Models;

/// <summary>
/// Zhang's anti-aliasing downsampler (Making Convolutional Networks Shift-Invariant Again, 2019):
/// reflect-pad, then a depthwise binomial low-pass filter applied with the stride. The filter lives in
/// the persistent buffer `filt` of shape [C, 1, k, k], as in the published state dicts.
/// </summary>
public sealed class BlurPool : nn.Module<Tensor, Tensor>
{
    public const string FilterBuffer = "filt";

    public int Channels { get; }
    public int FilterSize { get; }
    public int Stride { get; }

    // A child module named `pad` as in Zhang's BlurPool, so module paths (`layer2.0.conv2.0.pad`) match the reference.
    readonly nn.Module<Tensor, Tensor> pad;

    public BlurPool(int channels, int filterSize = 5, int stride = 2) : base(nameof(BlurPool))
    {
        if (filterSize is < 1 or > 7)
            throw new ShiftBenchException($"filter size {filterSize} is not supported: use 1 to 7");
        Channels = channels;
        FilterSize = filterSize;
        Stride = stride;
        int before = (filterSize - 1) / 2, after = filterSize - 1 - before;
        pad = nn.ReflectionPad2d((before, after, before, after));
        register_module(nameof(pad), pad);
        register_buffer(FilterBuffer, ExpectedFilter(channels, filterSize));
    }

    /// <summary>The normalised 2-D binomial filter repeated per channel. The sum is a power of two, so it is exact.</summary>
    public static Tensor ExpectedFilter(int channels, int filterSize)
    {
        var row = new double[filterSize];
        row[0] = 1;
        for (int n = 1; n < filterSize; n++)
            for (int j = n; j > 0; j--)
                row[j] += row[j - 1];
        var sum = Math.Pow(2, 2 * (filterSize - 1));
        var kernel = new float[filterSize * filterSize];
        for (int i = 0; i < filterSize; i++)
            for (int j = 0; j < filterSize; j++)
                kernel[i * filterSize + j] = (float)(row[i] * row[j] / sum);
        return torch.tensor(kernel).reshape(1, 1, filterSize, filterSize).repeat(channels, 1, 1, 1);
    }

    public Tensor Filter => get_buffer(FilterBuffer) ?? throw new InvalidOperationException("BlurPool lost its filt buffer");

    public override Tensor forward(Tensor input)
    {
        if (FilterSize == 1)
            return input[.., .., TensorIndex.Slice(step: Stride), TensorIndex.Slice(step: Stride)];
        using var padded = pad.call(input);
        return nn.functional.conv2d(padded, Filter, strides: [Stride, Stride], groups: input.shape[1]);
    }

    /// <summary>Throws unless this module's `filt` is exactly the filter its size implies (e.g. after loading weights).</summary>
    public void VerifyFilter(string moduleName)
    {
        using var _ = NewDisposeScope();
        var actual = Filter;
        var expected = ExpectedFilter(Channels, FilterSize);
        if (!actual.shape.SequenceEqual(expected.shape))
            throw new ShiftBenchException(
                $"weights: BlurPool '{moduleName}.{FilterBuffer}' has shape [{string.Join(", ", actual.shape)}], " +
                $"expected [{string.Join(", ", expected.shape)}]: the file was saved for another architecture");
        var worst = actual.to(ScalarType.Float32).sub(expected).abs().max().item<float>();
        if (!(worst <= 1e-6f))
            throw new ShiftBenchException(
                $"weights: BlurPool '{moduleName}.{FilterBuffer}' is not the size-{FilterSize} binomial filter " +
                $"(max difference {worst:G3}): use the weight file for filter size {FilterSize}");
    }

    /// <summary>Checks every BlurPool inside <paramref name="model"/>; returns how many were checked.</summary>
    public static int VerifyFilters(nn.Module model)
    {
        int count = 0;
        foreach (var (name, module) in model.named_modules())
        {
            if (module is not BlurPool blur) continue;
            blur.VerifyFilter(name);
            count++;
        }
        return count;
    }
}
