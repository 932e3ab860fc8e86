using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ShiftBench.Models.Families;

/// <summary>
/// MobileNetV2 (width 1.0). Antialiased form: each stride-2 inverted residual runs its depthwise conv at
/// stride 1 and puts a BlurPool before the 1x1 projection; the classifier is a single Linear (torchvision
/// has Dropout first) and the features are averaged with a mean over the map.
/// </summary>
public sealed record MobileNetV2Spec : ArchitectureSpec
{
    // expansion t, output channels c, repeats n, first stride s
    static readonly int[][] Settings =
    [
        [1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1],
    ];

    const int LastChannel = 1280;

    public override string Family => "mobilenet_v2";

    public override Module<Tensor, Tensor> Build(int? filterSize)
    {
        int input = 32;
        var layers = new List<Module<Tensor, Tensor>> { ConvBnRelu(3, input, kernel: 3, stride: 2) };
        foreach (var s in Settings)
            for (int i = 0; i < s[2]; i++)
            {
                layers.Add(new InvertedResidual(input, s[1], i == 0 ? s[3] : 1, s[0], filterSize));
                input = s[1];
            }
        layers.Add(ConvBnRelu(input, LastChannel, kernel: 1));
        var classifier = filterSize is null
            ? Sequential(Dropout(0.2), Linear(LastChannel, 1000))
            : Sequential(Linear(LastChannel, 1000));
        Func<Tensor, Tensor> pool = filterSize is null ? PooledClassifierNet.GlobalAveragePool : map => map.mean([2, 3]);
        return new PooledClassifierNet("MobileNetV2", Sequential(layers), pool, classifier);
    }

    // classifier.0 is torchvision's Dropout and the antialiased Linear: both receive the pooled features.
    public override IReadOnlyList<LayerTap> Taps(bool antialiased) => [new("pool", "classifier.0", TapPoint.Input)];

    /// <summary>The stem, the last block at each resolution (strides 2..32), and the final 1x1 conv.</summary>
    public override IReadOnlyList<LayerTap> Stages(bool antialiased) =>
    [
        new("stem", "features.0"), new("stage1", "features.1"), new("stage2", "features.3"), new("stage3", "features.6"),
        new("stage4", "features.13"), new("stage5", "features.17"), new("head", "features.18"),
    ];

    static Module<Tensor, Tensor> ConvBnRelu(long inChannels, long outChannels, int kernel = 3, int stride = 1, long groups = 1) =>
        Sequential(
            Conv2d(inChannels, outChannels, kernel_size: kernel, stride: stride, padding: (kernel - 1) / 2, groups: groups, bias: false),
            BatchNorm2d(outChannels),
            ReLU6());

    /// <summary>Its modules are read by exact reuse (Runs/Reuse), which evaluates the block on windows of a map.</summary>
    internal sealed class InvertedResidual : Module<Tensor, Tensor>
    {
        internal readonly Module<Tensor, Tensor> conv;
        internal readonly bool useResidual;

        public InvertedResidual(int input, int output, int stride, int expandRatio, int? filterSize) : base(nameof(InvertedResidual))
        {
            int hidden = input * expandRatio;
            useResidual = stride == 1 && input == output;
            var layers = new List<Module<Tensor, Tensor>>();
            if (expandRatio != 1) layers.Add(ConvBnRelu(input, hidden, kernel: 1));
            layers.Add(ConvBnRelu(hidden, hidden, stride: filterSize is null ? stride : 1, groups: hidden));
            if (stride != 1 && filterSize is int f) layers.Add(new BlurPool(hidden, f, stride));
            layers.Add(Conv2d(hidden, output, kernel_size: 1, bias: false));
            layers.Add(BatchNorm2d(output));
            conv = Sequential(layers);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => useResidual ? x + conv.call(x) : conv.call(x);
    }
}
