using System.Text.RegularExpressions;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ShiftBench.Models.Families;

/// <summary>
/// DenseNet-BC. Antialiased form (pool_only): the stem max-pool runs at stride 1 (`max0`) and a BlurPool
/// (`pool0`) downsamples; each transition's 2x2 average pool becomes a stride-2 BlurPool; and, as in Zhang's
/// code (torchvision's older DenseNet), each dense layer returns its input concatenated with its new features,
/// so a hook on `denselayerN` sees what torchvision 0.14's block concatenates after that layer.
/// </summary>
public sealed partial record DenseNetSpec(int GrowthRate, int[] BlockConfig, int InitFeatures) : ArchitectureSpec
{
    const int BottleneckFactor = 4;

    public override string Family => "densenet";

    public override Module<Tensor, Tensor> Build(int? filterSize)
    {
        var features = new List<(string, Module<Tensor, Tensor>)>
        {
            ("conv0", Conv2d(3, InitFeatures, kernel_size: 7, stride: 2, padding: 3, bias: false)),
            ("norm0", BatchNorm2d(InitFeatures)),
            ("relu0", ReLU()),
        };
        if (filterSize is int f)
        {
            features.Add(("max0", new StridedMaxPool2d(3, 1, 1)));
            features.Add(("pool0", new BlurPool(InitFeatures, f, stride: 2)));
        }
        else features.Add(("pool0", new StridedMaxPool2d(3, 2, 1)));

        int channels = InitFeatures;
        for (int i = 0; i < BlockConfig.Length; i++)
        {
            features.Add(($"denseblock{i + 1}", new DenseBlock(BlockConfig[i], channels, GrowthRate, layersConcatenate: filterSize is not null)));
            channels += BlockConfig[i] * GrowthRate;
            if (i == BlockConfig.Length - 1) break;
            Module<Tensor, Tensor> pool = filterSize is int g ? new BlurPool(channels / 2, g, stride: 2) : AvgPool2d(kernel_size: 2, stride: 2);
            features.Add(($"transition{i + 1}", Sequential(
                ("norm", BatchNorm2d(channels)), ("relu", ReLU()),
                ("conv", Conv2d(channels, channels / 2, kernel_size: 1, bias: false)), ("pool", pool))));
            channels /= 2;
        }
        features.Add(("norm5", BatchNorm2d(channels)));
        return new PooledClassifierNet("DenseNet", Sequential(features), map => PooledClassifierNet.GlobalAveragePool(functional.relu(map)),
            Linear(channels, 1000));
    }

    public override IReadOnlyList<LayerTap> Taps(bool antialiased) => [new("pool", "classifier", TapPoint.Input)];

    public override IReadOnlyList<LayerTap> Stages(bool antialiased) =>
    [
        new("stem", "features.pool0"),
        .. Enumerable.Range(1, BlockConfig.Length).Select(i => new LayerTap($"denseblock{i}", $"features.denseblock{i}")),
        new("norm5", "features.norm5"),
    ];

    /// <summary>Files saved before PyTorch forbade dots in module names use `norm.1`, `conv.2`, ... inside dense layers.</summary>
    public override string RenameLegacyKey(string key) => LegacyKey().Replace(key, "$1$2");

    [GeneratedRegex(@"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$")]
    private static partial Regex LegacyKey();

    /// <summary>Each layer sees the concatenation of the block's input and every earlier layer's output.</summary>
    internal sealed class DenseBlock : Module<Tensor, Tensor>
    {
        readonly List<DenseLayer> layers = [];

        public DenseBlock(int count, int inputChannels, int growthRate, bool layersConcatenate) : base("DenseBlock")
        {
            for (int i = 0; i < count; i++)
            {
                var layer = new DenseLayer(inputChannels + i * growthRate, growthRate, layersConcatenate);
                layers.Add(layer);
                register_module($"denselayer{i + 1}", layer);
            }
        }

        /// <summary>What the block makes of a layer: its input and its new features concatenated.</summary>
        internal static Tensor Step(DenseLayer layer, Tensor x) => layer.Concatenates ? layer.call(x) : cat([x, layer.call(x)], 1);

        public override Tensor forward(Tensor input)
        {
            // Each step frees what it made except the growing concatenation (deep blocks would hold gigabytes).
            var x = input;
            foreach (var layer in layers)
            {
                Tensor next;
                using (NewDisposeScope())
                    next = Step(layer, x).MoveToOuterDisposeScope();
                if (!ReferenceEquals(x, input)) x.Dispose();
                x = next;
            }
            return x;
        }
    }

    /// <summary>Its modules are read by exact reuse (Runs/Reuse), which evaluates the layer on windows of a map.</summary>
    internal sealed class DenseLayer : Module<Tensor, Tensor>
    {
        internal readonly Module<Tensor, Tensor> norm1, relu1, conv1, norm2, relu2, conv2;

        /// <summary>Returns cat([input, new features]) (Zhang's layer) rather than the new features (torchvision 0.14's).</summary>
        public bool Concatenates { get; }

        public DenseLayer(int inputChannels, int growthRate, bool concatenates) : base("DenseLayer")
        {
            Concatenates = concatenates;
            norm1 = BatchNorm2d(inputChannels);
            relu1 = ReLU();
            conv1 = Conv2d(inputChannels, BottleneckFactor * growthRate, kernel_size: 1, bias: false);
            norm2 = BatchNorm2d(BottleneckFactor * growthRate);
            relu2 = ReLU();
            conv2 = Conv2d(BottleneckFactor * growthRate, growthRate, kernel_size: 3, padding: 1, bias: false);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            var added = conv2.call(relu2.call(norm2.call(conv1.call(relu1.call(norm1.call(x))))));
            return Concatenates ? cat([x, added], 1) : added;
        }
    }
}
