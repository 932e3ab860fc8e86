using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ShiftBench.Models.Families;

public enum ResNetBlock { Basic, Bottleneck }

/// <summary>
/// ResNet, ResNeXt and Wide ResNet (torchvision's ResNet v1.5: the stride sits on the 3x3 conv).
/// Antialiased form (Zhang, pool_only): the stem max-pool becomes MaxPool(2, s1) + BlurPool; in each
/// block the strided conv runs at stride 1 and a BlurPool is put in front of the next conv (before
/// conv2 in a basic block, before conv3 in a bottleneck) and in front of the shortcut's 1x1 conv.
/// </summary>
public sealed record ResNetSpec(ResNetBlock Block, int[] Layers, int Groups = 1, int WidthPerGroup = 64) : ArchitectureSpec
{
    public override string Family => "resnet";

    int Expansion => Block == ResNetBlock.Basic ? 1 : 4;

    public override Module<Tensor, Tensor> Build(int? filterSize) => new ResNet(this, filterSize);

    public override IReadOnlyList<LayerTap> Taps(bool antialiased) => [new("pool", "fc", TapPoint.Input)];

    public override IReadOnlyList<LayerTap> Stages(bool antialiased) =>
        [new("stem", "maxpool"), new("layer1", "layer1"), new("layer2", "layer2"), new("layer3", "layer3"), new("layer4", "layer4")];

    sealed class ResNet : Module<Tensor, Tensor>, IStagedNetwork
    {
        readonly Module<Tensor, Tensor> conv1, bn1, relu, maxpool, layer1, layer2, layer3, layer4, avgpool, fc;

        public ResNet(ResNetSpec spec, int? filterSize) : base("ResNet")
        {
            conv1 = Conv2d(3, 64, kernel_size: 7, stride: 2, padding: 3, bias: false);
            bn1 = BatchNorm2d(64);
            relu = ReLU();
            maxpool = filterSize is int f
                ? Sequential(new StridedMaxPool2d(2, 1), new BlurPool(64, f, stride: 2))
                : new StridedMaxPool2d(3, 2, 1);
            int inplanes = 64;
            layer1 = MakeLayer(spec, ref inplanes, 64, spec.Layers[0], 1, filterSize);
            layer2 = MakeLayer(spec, ref inplanes, 128, spec.Layers[1], 2, filterSize);
            layer3 = MakeLayer(spec, ref inplanes, 256, spec.Layers[2], 2, filterSize);
            layer4 = MakeLayer(spec, ref inplanes, 512, spec.Layers[3], 2, filterSize);
            avgpool = AdaptiveAvgPool2d(1);
            fc = Linear(512 * spec.Expansion, 1000);
            RegisterComponents();
        }

        static Module<Tensor, Tensor> MakeLayer(ResNetSpec spec, ref int inplanes, int planes, int blocks, int stride, int? filterSize)
        {
            int outChannels = planes * spec.Expansion;
            Module<Tensor, Tensor>? downsample = null;
            if (stride != 1 || inplanes != outChannels)
            {
                var parts = new List<Module<Tensor, Tensor>>();
                if (stride != 1 && filterSize is int f) parts.Add(new BlurPool(inplanes, f, stride));
                parts.Add(Conv2d(inplanes, outChannels, kernel_size: 1, stride: filterSize is null ? stride : 1, bias: false));
                parts.Add(BatchNorm2d(outChannels));
                downsample = Sequential(parts);
            }
            var blocks_ = new List<Module<Tensor, Tensor>> { MakeBlock(spec, inplanes, planes, stride, downsample, filterSize) };
            inplanes = outChannels;
            for (int i = 1; i < blocks; i++)
                blocks_.Add(MakeBlock(spec, inplanes, planes, 1, null, filterSize));
            return Sequential(blocks_);
        }

        static Module<Tensor, Tensor> MakeBlock(ResNetSpec spec, int inplanes, int planes, int stride, Module<Tensor, Tensor>? downsample, int? filterSize) =>
            spec.Block == ResNetBlock.Basic
                ? new BasicBlock(inplanes, planes, stride, downsample, filterSize)
                : new Bottleneck(inplanes, planes, stride, downsample, spec.Groups, spec.WidthPerGroup, filterSize);

        public IReadOnlyList<(string Name, Module<Tensor, Tensor> Module)> TrunkModules =>
            [("conv1", conv1), ("bn1", bn1), ("relu", relu), ("maxpool", maxpool), ("layer1", layer1), ("layer2", layer2), ("layer3", layer3), ("layer4", layer4)];

        public Tensor Head(Tensor map)
        {
            using var scope = NewDisposeScope();
            return fc.call(avgpool.call(map).flatten(1)).MoveToOuterDisposeScope();
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            return Head(this.Trunk(input)).MoveToOuterDisposeScope();
        }
    }

    /// <summary>A conv that downsamples: strided (torchvision) or stride 1 after a BlurPool (antialiased).</summary>
    static Module<Tensor, Tensor> Downsampling(int stride, int? filterSize, int channels, Func<int, Module<Tensor, Tensor>> conv) =>
        stride == 1 ? conv(1)
        : filterSize is int f ? Sequential(new BlurPool(channels, f, stride), conv(1))
        : conv(stride);

    /// <summary>Its modules are read by exact reuse (Runs/Reuse), which evaluates the block on windows of a map.</summary>
    internal sealed class BasicBlock : Module<Tensor, Tensor>
    {
        internal readonly Module<Tensor, Tensor> conv1, bn1, relu, conv2, bn2;
        internal readonly Module<Tensor, Tensor>? downsample;

        public BasicBlock(int inplanes, int planes, int stride, Module<Tensor, Tensor>? downsample, int? filterSize) : base(nameof(BasicBlock))
        {
            // torchvision strides conv1; the antialiased block runs conv1 at stride 1 and blurs before conv2.
            conv1 = Conv2d(inplanes, planes, kernel_size: 3, stride: filterSize is null ? stride : 1, padding: 1, bias: false);
            bn1 = BatchNorm2d(planes);
            relu = ReLU();
            conv2 = filterSize is null
                ? Conv2d(planes, planes, kernel_size: 3, padding: 1, bias: false)
                : Downsampling(stride, filterSize, planes, s => Conv2d(planes, planes, kernel_size: 3, padding: 1, bias: false));
            bn2 = BatchNorm2d(planes);
            this.downsample = downsample;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            var residual = bn2.call(conv2.call(relu.call(bn1.call(conv1.call(x)))));
            var identity = downsample is null ? x : downsample.call(x);
            return relu.call(residual + identity);
        }
    }

    /// <summary>Its modules are read by exact reuse (Runs/Reuse), which evaluates the block on windows of a map.</summary>
    internal sealed class Bottleneck : Module<Tensor, Tensor>
    {
        internal readonly Module<Tensor, Tensor> conv1, bn1, conv2, bn2, conv3, bn3, relu;
        internal readonly Module<Tensor, Tensor>? downsample;

        public Bottleneck(int inplanes, int planes, int stride, Module<Tensor, Tensor>? downsample, int groups, int widthPerGroup, int? filterSize)
            : base(nameof(Bottleneck))
        {
            int width = planes * widthPerGroup / 64 * groups;
            int outChannels = planes * 4;
            conv1 = Conv2d(inplanes, width, kernel_size: 1, bias: false);
            bn1 = BatchNorm2d(width);
            // torchvision strides conv2; the antialiased block runs conv2 at stride 1 and blurs before conv3.
            conv2 = Conv2d(width, width, kernel_size: 3, stride: filterSize is null ? stride : 1, padding: 1, groups: groups, bias: false);
            bn2 = BatchNorm2d(width);
            conv3 = filterSize is null
                ? Conv2d(width, outChannels, kernel_size: 1, bias: false)
                : Downsampling(stride, filterSize, width, _ => Conv2d(width, outChannels, kernel_size: 1, bias: false));
            bn3 = BatchNorm2d(outChannels);
            relu = ReLU();
            this.downsample = downsample;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            var residual = bn3.call(conv3.call(relu.call(bn2.call(conv2.call(relu.call(bn1.call(conv1.call(x))))))));
            var identity = downsample is null ? x : downsample.call(x);
            return relu.call(residual + identity);
        }
    }
}
