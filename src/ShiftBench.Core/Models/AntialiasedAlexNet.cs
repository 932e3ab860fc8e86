using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ShiftBench.Models;

/// <summary>
/// Zhang's antialiased AlexNet: conv1 runs at stride 2 and, after its ReLU, a BlurPool takes the
/// remaining factor 2; every max-pool runs at stride 1 and is followed by a stride-2 BlurPool.
/// The classifier is torchvision's (Dropout, Linear, ReLU, Dropout, Linear, ReLU, Linear).
/// </summary>
public sealed class AntialiasedAlexNet : Module<Tensor, Tensor>
{
    readonly Module<Tensor, Tensor> features, avgpool, classifier;

    public AntialiasedAlexNet(int filterSize = 5, int numClasses = 1000) : base(nameof(AntialiasedAlexNet))
    {
        features = Sequential(
            Conv2d(3, 64, kernel_size: 11, stride: 2, padding: 2),
            ReLU(),
            new BlurPool(64, filterSize, stride: 2),
            MaxPool2d(kernel_size: 3, stride: 1),
            new BlurPool(64, filterSize, stride: 2),
            Conv2d(64, 192, kernel_size: 5, padding: 2),
            ReLU(),
            MaxPool2d(kernel_size: 3, stride: 1),
            new BlurPool(192, filterSize, stride: 2),
            Conv2d(192, 384, kernel_size: 3, padding: 1),
            ReLU(),
            Conv2d(384, 256, kernel_size: 3, padding: 1),
            ReLU(),
            Conv2d(256, 256, kernel_size: 3, padding: 1),
            ReLU(),
            MaxPool2d(kernel_size: 3, stride: 1),
            new BlurPool(256, filterSize, stride: 2));
        avgpool = AdaptiveAvgPool2d(6);
        classifier = Sequential(
            Dropout(),
            Linear(256 * 6 * 6, 4096),
            ReLU(),
            Dropout(),
            Linear(4096, 4096),
            ReLU(),
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
