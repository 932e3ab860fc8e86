using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ShiftBench.Models;

/// <summary>
/// Zhang's antialiased MobileNetV2: each stride-2 inverted residual runs its depthwise conv at stride 1
/// and downsamples with a BlurPool before the 1x1 projection. Unlike torchvision's, the classifier is a
/// single Linear (no Dropout), so `classifier.0` is the Linear layer.
/// </summary>
public sealed class AntialiasedMobileNetV2 : Module<Tensor, Tensor>
{
    // expansion t, output channels c, repeats n, first stride s
    static readonly int[][] Settings =
    [
        [1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1],
    ];

    readonly Module<Tensor, Tensor> features, classifier;

    public AntialiasedMobileNetV2(int filterSize = 5, int numClasses = 1000) : base(nameof(AntialiasedMobileNetV2))
    {
        const int lastChannel = 1280;
        int input = 32;
        var layers = new List<Module<Tensor, Tensor>> { ConvBnRelu(3, input, kernel: 3, stride: 2) };
        foreach (var s in Settings)
            for (int i = 0; i < s[2]; i++)
            {
                layers.Add(new InvertedResidual(input, s[1], i == 0 ? s[3] : 1, s[0], filterSize));
                input = s[1];
            }
        layers.Add(ConvBnRelu(input, lastChannel, kernel: 1));
        features = Sequential(layers);
        classifier = Sequential(Linear(lastChannel, numClasses));
        RegisterComponents();
    }

    static Module<Tensor, Tensor> ConvBnRelu(long inChannels, long outChannels, int kernel = 3, int stride = 1, long groups = 1) =>
        Sequential(
            Conv2d(inChannels, outChannels, kernel_size: kernel, stride: stride, padding: (kernel - 1) / 2, groups: groups, bias: false),
            BatchNorm2d(outChannels),
            ReLU6());

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = features.call(input).mean([2, 3]);
        return classifier.call(x).MoveToOuterDisposeScope();
    }

    sealed class InvertedResidual : Module<Tensor, Tensor>
    {
        readonly Module<Tensor, Tensor> conv;
        readonly bool useResidual;

        public InvertedResidual(int input, int output, int stride, int expandRatio, int filterSize) : base(nameof(InvertedResidual))
        {
            int hidden = input * expandRatio;
            useResidual = stride == 1 && input == output;
            var layers = new List<Module<Tensor, Tensor>>();
            if (expandRatio != 1) layers.Add(ConvBnRelu(input, hidden, kernel: 1));
            layers.Add(ConvBnRelu(hidden, hidden, stride: 1, groups: hidden));
            if (stride != 1) layers.Add(new BlurPool(hidden, filterSize, stride));
            layers.Add(Conv2d(hidden, output, kernel_size: 1, bias: false));
            layers.Add(BatchNorm2d(output));
            conv = Sequential(layers);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => useResidual ? x + conv.call(x) : conv.call(x);
    }
}
