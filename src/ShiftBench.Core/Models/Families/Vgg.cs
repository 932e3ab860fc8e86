using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ShiftBench.Models.Families;

/// <summary>
/// VGG configurations A, B, D, E (VGG11/13/16/19), with or without batch norm. Antialiased form: every
/// 2x2 max-pool runs at stride 1 and is followed by a stride-2 BlurPool, so each pool takes two slots
/// of `features` and the indices after it shift.
/// </summary>
public sealed record VggSpec(char Configuration, bool BatchNorm) : ArchitectureSpec
{
    const int Pool = 0;

    static int[] Widths(char configuration) => configuration switch
    {
        'A' => [64, Pool, 128, Pool, 256, 256, Pool, 512, 512, Pool, 512, 512, Pool],
        'B' => [64, 64, Pool, 128, 128, Pool, 256, 256, Pool, 512, 512, Pool, 512, 512, Pool],
        'D' => [64, 64, Pool, 128, 128, Pool, 256, 256, 256, Pool, 512, 512, 512, Pool, 512, 512, 512, Pool],
        'E' => [64, 64, Pool, 128, 128, Pool, 256, 256, 256, 256, Pool, 512, 512, 512, 512, Pool, 512, 512, 512, 512, Pool],
        _ => throw new ArgumentException($"VGG configuration {configuration} is not A, B, D or E"),
    };

    public override string Family => "vgg";

    public override Module<Tensor, Tensor> Build(int? filterSize)
    {
        var layers = new List<Module<Tensor, Tensor>>();
        int channels = 3;
        foreach (var width in Widths(Configuration))
        {
            if (width == Pool)
            {
                if (filterSize is int f)
                {
                    layers.Add(new StridedMaxPool2d(2, 1));
                    layers.Add(new BlurPool(channels, f, stride: 2));
                }
                else layers.Add(new StridedMaxPool2d(2, 2));
                continue;
            }
            layers.Add(Conv2d(channels, width, kernel_size: 3, padding: 1));
            if (BatchNorm) layers.Add(BatchNorm2d(width));
            layers.Add(ReLU());
            channels = width;
        }
        return new PooledClassifierNet("VGG", Sequential(layers), 7, Sequential(
            Linear(512 * 7 * 7, 4096), ReLU(), Dropout(),
            Linear(4096, 4096), ReLU(), Dropout(),
            Linear(4096, 1000)));
    }

    public override IReadOnlyList<LayerTap> Taps(bool antialiased) =>
    [
        new("pool", "classifier.0", TapPoint.Input),
        new("fc6", "classifier.0"), new("fc6relu", "classifier.1"),
        new("fc7", "classifier.3"), new("fc7relu", "classifier.4"),
    ];

    /// <summary>The output of each of the five pooling steps (the BlurPool in the antialiased form).</summary>
    public override IReadOnlyList<LayerTap> Stages(bool antialiased)
    {
        var stages = new List<LayerTap>();
        int index = 0;
        foreach (var width in Widths(Configuration))
        {
            if (width == Pool)
            {
                index += antialiased ? 2 : 1;
                stages.Add(new($"pool{stages.Count + 1}", $"features.{index - 1}"));
            }
            else index += BatchNorm ? 3 : 2;
        }
        return stages;
    }
}
