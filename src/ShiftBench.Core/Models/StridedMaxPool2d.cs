using static TorchSharp.torch;

namespace ShiftBench.Models;

/// <summary>
/// PyTorch's MaxPool2d (square kernel, floor mode, no dilation, -inf padding) computed as the maximum of the k
/// strided views of each axis in turn. A maximum is exact in any order, so the output has the same bits as
/// <c>max_pool2d</c>, NaNs included; libtorch's CPU kernel for NCHW maps runs 3-13x slower here (AlexNet's first
/// pool on a batch of 32: 20-58 ms against 4.5 ms), which was a fifth of brute-force AlexNet's time.
/// </summary>
public sealed class StridedMaxPool2d : nn.Module<Tensor, Tensor>
{
    public int KernelSize { get; }
    public int Stride { get; }
    public int Padding { get; }

    public StridedMaxPool2d(int kernelSize, int stride, int padding = 0) : base("MaxPool2d")
    {
        if (kernelSize < 1 || stride < 1 || padding < 0 || 2 * padding > kernelSize)
            throw new ArgumentException($"max pool: kernel {kernelSize}, stride {stride}, padding {padding} (padding at most half the kernel)");
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
    }

    public override Tensor forward(Tensor input)
    {
        if (Padding == 0) return Pool(input, KernelSize, Stride);
        using var padded = nn.functional.pad(input, [Padding, Padding, Padding, Padding], value: double.NegativeInfinity);
        return Pool(padded, KernelSize, Stride);
    }

    /// <summary>Max pooling of an N x C x H x W map without padding: columns first, then rows.</summary>
    public static Tensor Pool(Tensor input, int kernel, int stride)
    {
        using var columns = Along(input, 3, kernel, stride);
        return Along(columns, 2, kernel, stride);
    }

    static Tensor Along(Tensor input, int dim, int kernel, int stride)
    {
        long outputs = (input.shape[dim] - kernel) / stride + 1;
        if (outputs < 1)
            throw new ArgumentException($"max pool: a map of {input.shape[dim]} is smaller than the kernel {kernel}");
        long span = stride * (outputs - 1) + 1;
        var result = input.slice(dim, 0, span, stride);
        for (int i = 1; i < kernel; i++)
        {
            using var view = input.slice(dim, i, i + span, stride);
            using var previous = result;
            result = previous.maximum(view);
        }
        return result;
    }
}
