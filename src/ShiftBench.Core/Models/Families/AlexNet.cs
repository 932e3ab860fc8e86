using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ShiftBench.Models.Families;

/// <summary>
/// AlexNet (torchvision's "one weird trick" layout). Antialiased form: conv1 runs at stride 2 and,
/// after its ReLU, a BlurPool takes the remaining factor 2; every max-pool runs at stride 1 and is
/// followed by a stride-2 BlurPool.
/// </summary>
public sealed record AlexNetSpec : ArchitectureSpec
{
    public override string Family => "alexnet";

    public override Module<Tensor, Tensor> Build(int? filterSize)
    {
        var layers = new List<Module<Tensor, Tensor>>();
        void Pool(int channels)
        {
            if (filterSize is int f)
            {
                layers.Add(new StridedMaxPool2d(3, 1));
                layers.Add(new BlurPool(channels, f, stride: 2));
            }
            else layers.Add(new StridedMaxPool2d(3, 2));
        }

        layers.Add(Conv2d(3, 64, kernel_size: 11, stride: filterSize is null ? 4 : 2, padding: 2));
        layers.Add(ReLU());
        if (filterSize is int first) layers.Add(new BlurPool(64, first, stride: 2));
        Pool(64);
        layers.Add(Conv2d(64, 192, kernel_size: 5, padding: 2));
        layers.Add(ReLU());
        Pool(192);
        layers.Add(Conv2d(192, 384, kernel_size: 3, padding: 1));
        layers.Add(ReLU());
        layers.Add(Conv2d(384, 256, kernel_size: 3, padding: 1));
        layers.Add(ReLU());
        layers.Add(Conv2d(256, 256, kernel_size: 3, padding: 1));
        layers.Add(ReLU());
        Pool(256);
        return new PooledClassifierNet("AlexNet", Sequential(layers), 6, Sequential(
            Dropout(), Linear(256 * 6 * 6, 4096), ReLU(),
            Dropout(), Linear(4096, 4096), ReLU(),
            Linear(4096, 1000)));
    }

    // Classifier: [Dropout, Linear, ReLU, Dropout, Linear, ReLU, Linear].
    public override IReadOnlyList<LayerTap> Taps(bool antialiased) =>
    [
        new("pool", "classifier.0", TapPoint.Input),
        new("fc6", "classifier.1"), new("fc6relu", "classifier.2"),
        new("fc7", "classifier.4"), new("fc7relu", "classifier.5"),
    ];

    public override IReadOnlyList<LayerTap> Stages(bool antialiased) => antialiased
        ? [new("conv1", "features.2"), new("pool1", "features.4"), new("pool2", "features.8"), new("pool5", "features.16")]
        : [new("conv1", "features.1"), new("pool1", "features.2"), new("pool2", "features.5"), new("pool5", "features.12")];
}
