using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ShiftBench.Models;

/// <summary>
/// Zhang's antialiased ResNet-50 (pool_only layout). Every stride-2 step becomes stride 1 followed by a
/// BlurPool: the stem max-pool (MaxPool k2 s1 + BlurPool), the 3x3 -> 1x1 step of each first bottleneck
/// (BlurPool before conv3) and the shortcut (BlurPool before its 1x1 conv). Child names reproduce the
/// published state-dict keys.
/// </summary>
public sealed class AntialiasedResNet50 : Module<Tensor, Tensor>
{
    const int Expansion = 4;

    readonly Module<Tensor, Tensor> conv1, bn1, relu, maxpool, layer1, layer2, layer3, layer4, avgpool, fc;

    public AntialiasedResNet50(int filterSize = 5, int numClasses = 1000) : base(nameof(AntialiasedResNet50))
    {
        conv1 = Conv2d(3, 64, kernel_size: 7, stride: 2, padding: 3, bias: false);
        bn1 = BatchNorm2d(64);
        relu = ReLU();
        maxpool = Sequential(MaxPool2d(kernel_size: 2, stride: 1), new BlurPool(64, filterSize, stride: 2));
        int inplanes = 64;
        layer1 = MakeLayer(ref inplanes, 64, blocks: 3, stride: 1, filterSize);
        layer2 = MakeLayer(ref inplanes, 128, blocks: 4, stride: 2, filterSize);
        layer3 = MakeLayer(ref inplanes, 256, blocks: 6, stride: 2, filterSize);
        layer4 = MakeLayer(ref inplanes, 512, blocks: 3, stride: 2, filterSize);
        avgpool = AdaptiveAvgPool2d(1);
        fc = Linear(512 * Expansion, numClasses);
        RegisterComponents();
    }

    static Module<Tensor, Tensor> MakeLayer(ref int inplanes, int planes, int blocks, int stride, int filterSize)
    {
        Module<Tensor, Tensor>? downsample = null;
        if (stride != 1 || inplanes != planes * Expansion)
        {
            var parts = new List<Module<Tensor, Tensor>>();
            if (stride != 1) parts.Add(new BlurPool(inplanes, filterSize, stride));
            parts.Add(Conv2d(inplanes, planes * Expansion, kernel_size: 1, bias: false));
            parts.Add(BatchNorm2d(planes * Expansion));
            downsample = Sequential(parts);
        }
        var layers = new List<Module<Tensor, Tensor>> { new Bottleneck(inplanes, planes, stride, downsample, filterSize) };
        inplanes = planes * Expansion;
        for (int i = 1; i < blocks; i++)
            layers.Add(new Bottleneck(inplanes, planes, 1, null, filterSize));
        return Sequential(layers);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = maxpool.call(relu.call(bn1.call(conv1.call(input))));
        x = layer4.call(layer3.call(layer2.call(layer1.call(x))));
        x = avgpool.call(x).flatten(1);
        return fc.call(x).MoveToOuterDisposeScope();
    }

    sealed class Bottleneck : Module<Tensor, Tensor>
    {
        readonly Module<Tensor, Tensor> conv1, bn1, conv2, bn2, conv3, bn3, relu;
        readonly Module<Tensor, Tensor>? downsample;

        public Bottleneck(int inplanes, int planes, int stride, Module<Tensor, Tensor>? downsample, int filterSize)
            : base(nameof(Bottleneck))
        {
            int width = planes;
            conv1 = Conv2d(inplanes, width, kernel_size: 1, bias: false);
            bn1 = BatchNorm2d(width);
            conv2 = Conv2d(width, width, kernel_size: 3, padding: 1, bias: false);
            bn2 = BatchNorm2d(width);
            var project = Conv2d(width, planes * Expansion, kernel_size: 1, bias: false);
            conv3 = stride == 1 ? project : Sequential(new BlurPool(width, filterSize, stride), project);
            bn3 = BatchNorm2d(planes * Expansion);
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
