using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ShiftBench.Models;

/// <summary>
/// Zhang's antialiased VGG16 (no batch norm): each 2x2 max-pool runs at stride 1 and is followed by a
/// stride-2 BlurPool, so every "M" of configuration D occupies two slots of `features`.
/// </summary>
public sealed class AntialiasedVgg16 : Module<Tensor, Tensor>
{
    const int Pool = 0; // marks a max-pool + BlurPool step in the configuration
    static readonly int[] ConfigurationD = [64, 64, Pool, 128, 128, Pool, 256, 256, 256, Pool, 512, 512, 512, Pool, 512, 512, 512, Pool];

    readonly Module<Tensor, Tensor> features, avgpool, classifier;

    public AntialiasedVgg16(int filterSize = 5, int numClasses = 1000) : base(nameof(AntialiasedVgg16))
    {
        var layers = new List<Module<Tensor, Tensor>>();
        int channels = 3;
        foreach (var width in ConfigurationD)
        {
            if (width == Pool)
            {
                layers.Add(MaxPool2d(kernel_size: 2, stride: 1));
                layers.Add(new BlurPool(channels, filterSize, stride: 2));
                continue;
            }
            layers.Add(Conv2d(channels, width, kernel_size: 3, padding: 1));
            layers.Add(ReLU());
            channels = width;
        }
        features = Sequential(layers);
        avgpool = AdaptiveAvgPool2d(7);
        classifier = Sequential(
            Linear(512 * 7 * 7, 4096),
            ReLU(),
            Dropout(),
            Linear(4096, 4096),
            ReLU(),
            Dropout(),
            Linear(4096, numClasses));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = avgpool.call(features.call(input)).flatten(1);
        return classifier.call(x).MoveToOuterDisposeScope();
    }
}
