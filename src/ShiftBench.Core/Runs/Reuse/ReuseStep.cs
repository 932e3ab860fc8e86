using ShiftBench.Models;
using ShiftBench.Models.Families;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ShiftBench.Runs.Reuse;

/// <summary>
/// One step of a network's trunk as exact reuse sees it: a block (ResNet BasicBlock or Bottleneck, MobileNetV2
/// InvertedResidual, DenseNet dense layer), or a windowed module (Conv2d, max pool, AvgPool2d, BlurPool, or a
/// Sequential of them) with the pointwise modules that follow it folded in. <see cref="Graph"/> evaluates it on windows
/// of a map; <see cref="Whole"/> is what the network itself computes (its real modules) on a whole map.
/// </summary>
public sealed class ReuseStep
{
    /// <summary>Module path of the step's last module, e.g. features.16, layer2.0, features.denseblock1.denselayer3.</summary>
    public required string Name { get; set; }
    /// <summary>Every module path it covers (a tap on one of them, inside one or around one stops reuse before the step).</summary>
    public List<string> Modules { get; } = [];
    /// <summary>Null when the step cannot be windowed: reuse ends before it.</summary>
    public WindowNode? Graph { get; set; }
    public required Func<Tensor, Tensor> Whole { get; set; }
    /// <summary>What forward calls after this step, up to the end of the trunk (whole modules, so their hooks fire).</summary>
    public IReadOnlyList<Func<Tensor, Tensor>> After { get; private set; } = [];

    public bool Covers(string module) => Modules.Any(m => m == module || module.StartsWith(m + ".") || m.StartsWith(module + "."));

    /// <summary>The trunk of <paramref name="net"/> as steps in call order (stops being windowable at the first unknown module).</summary>
    internal static List<ReuseStep> Of(IStagedNetwork net)
    {
        var steps = new List<ReuseStep>();
        Flatten(Parts(net.TrunkModules.Select(m => (m.Name, m.Module, (Func<Tensor, Tensor>)m.Module.call)), top: true), [], steps);
        return steps;
    }

    /// <summary>A step, or a container (Sequential of blocks, DenseBlock) whose children are parts.</summary>
    sealed class Part
    {
        public ReuseStep? Step;
        public required Func<Tensor, Tensor> Whole;
        public List<Part>? Children;
    }

    /// <summary>
    /// Steps and containers of one level. A Sequential of windowed modules below the top is one step (DenseNet transition,
    /// MobileNetV2 ConvBNReLU); at the top (VGG `features`, ResNet `maxpool`) its modules are steps of their own.
    /// </summary>
    static List<Part> Parts(IEnumerable<(string Path, nn.Module<Tensor, Tensor> Module, Func<Tensor, Tensor> Whole)> children, bool top = false)
    {
        var parts = new List<Part>();
        foreach (var (path, module, whole) in children)
        {
            var previous = parts.Count > 0 ? parts[^1].Step : null;
            if (Pointwise(module, path) is { } pointwise && previous?.Graph is { } graph)
            {
                previous.Graph = graph.Then(pointwise);
                var before = previous.Whole;
                previous.Whole = x => whole(before(x));
                parts[^1].Whole = previous.Whole;
                previous.Name = path;
                previous.Modules.Add(path);
                continue;
            }
            var node = Block(module, path) ?? (top && module is Sequential ? null : Chain(module, path, WindowNode.Input));
            if (node is not null || module is not (Sequential or DenseNetSpec.DenseBlock))
            {
                var step = new ReuseStep { Name = path, Graph = node, Whole = whole };
                step.Modules.Add(path);
                parts.Add(new Part { Step = step, Whole = whole });
                continue;
            }
            var inner = module.named_children().Select(c =>
            {
                var child = (nn.Module<Tensor, Tensor>)c.module;
                Func<Tensor, Tensor> childWhole = child is DenseNetSpec.DenseLayer layer ? x => DenseNetSpec.DenseBlock.Step(layer, x) : child.call;
                return ($"{path}.{c.name}", child, childWhole);
            });
            parts.Add(new Part { Whole = whole, Children = Parts(inner) });
        }
        return parts;
    }

    static void Flatten(List<Part> parts, IReadOnlyList<Func<Tensor, Tensor>> after, List<ReuseStep> steps)
    {
        for (int i = 0; i < parts.Count; i++)
        {
            var afterThis = parts.Skip(i + 1).Select(p => p.Whole).Concat(after).ToList();
            if (parts[i].Step is { } step) { step.After = afterThis; steps.Add(step); }
            else Flatten(parts[i].Children!, afterThis, steps);
        }
    }

    /// <summary>A residual, inverted-residual or dense block as a graph, or null.</summary>
    static WindowNode? Block(nn.Module<Tensor, Tensor> module, string path)
    {
        var x = WindowNode.Input;
        switch (module)
        {
            case ResNetSpec.BasicBlock b:
            {
                var main = Chains([b.conv1, b.bn1, b.relu, b.conv2, b.bn2], path, ["conv1", "bn1", "relu", "conv2", "bn2"]);
                return Residual(main, b.downsample, path, b.relu);
            }
            case ResNetSpec.Bottleneck b:
            {
                var main = Chains([b.conv1, b.bn1, b.relu, b.conv2, b.bn2, b.relu, b.conv3, b.bn3], path,
                    ["conv1", "bn1", "relu", "conv2", "bn2", "relu", "conv3", "bn3"]);
                return Residual(main, b.downsample, path, b.relu);
            }
            case MobileNetV2Spec.InvertedResidual r:
            {
                var main = Chain(r.conv, $"{path}.conv", x);
                return main is null ? null : r.useResidual ? new MergeNode(x, main, concat: false) : main;
            }
            case DenseNetSpec.DenseLayer d:
            {
                var added = Chains([d.norm1, d.relu1, d.conv1, d.norm2, d.relu2, d.conv2], path, ["norm1", "relu1", "conv1", "norm2", "relu2", "conv2"]);
                return added is null ? null : new MergeNode(x, added, concat: true);
            }
            default:
                return null;
        }
    }

    /// <summary>relu(main + shortcut): the shortcut is the input itself or the downsample chain.</summary>
    static WindowNode? Residual(WindowNode? main, nn.Module<Tensor, Tensor>? downsample, string path, nn.Module<Tensor, Tensor> relu)
    {
        var shortcut = downsample is null ? WindowNode.Input : Chain(downsample, $"{path}.downsample", WindowNode.Input);
        if (main is null || shortcut is null || Pointwise(relu, $"{path}.relu") is not { } after) return null;
        return new MergeNode(main, shortcut, concat: false).Then(after);
    }

    static WindowNode? Chains(nn.Module<Tensor, Tensor>[] modules, string path, string[] names)
    {
        WindowNode? x = WindowNode.Input;
        for (int i = 0; i < modules.Length && x is not null; i++) x = Chain(modules[i], $"{path}.{names[i]}", x);
        return x;
    }

    /// <summary>A windowed or pointwise module, or a Sequential of them, applied after <paramref name="x"/>; null if any part is not.</summary>
    static WindowNode? Chain(nn.Module<Tensor, Tensor> module, string path, WindowNode x)
    {
        if (module is Sequential)
        {
            foreach (var (name, child) in module.named_children())
            {
                if (child is not nn.Module<Tensor, Tensor> m || Chain(m, $"{path}.{name}", x) is not { } next) return null;
                x = next;
            }
            return x;
        }
        return (Windowed(module, path) ?? Pointwise(module, path)) is { } op ? x.Then(op) : null;
    }

    static WindowOp? Pointwise(nn.Module<Tensor, Tensor> module, string path) =>
        module is ReLU or ReLU6 or BatchNorm2d
            ? new WindowOp { Name = path, Rows = Axis.Pointwise, Cols = Axis.Pointwise, Fill = PadFill.Zeros, MacsPerOutput = 0, Core = module.call }
            : null;

    /// <summary>Conv2d (zero padding, no dilation), max pool (-inf padding, floor mode), AvgPool2d (no padding), BlurPool (reflection).</summary>
    static WindowOp? Windowed(nn.Module<Tensor, Tensor> module, string path)
    {
        static Axis Make(long[] kernel, long[]? stride, long[]? padding, int axis)
        {
            long At(long[] v) => v.Length > axis ? v[axis] : v[0];
            int p = padding is { Length: > 0 } ? (int)At(padding) : 0;
            return new Axis((int)At(kernel), stride is { Length: > 0 } ? (int)At(stride) : (int)At(kernel), p, p);
        }
        switch (module)
        {
            case Conv2d conv when conv.dilation.All(d => d == 1) && conv.padding_mode == PaddingModes.Zeros && conv.padding_type is null:
            {
                var weight = conv.weight!;
                var bias = conv.bias;
                long groups = conv.groups;
                long[] stride = [conv.stride[0], conv.stride.Length > 1 ? conv.stride[1] : conv.stride[0]];
                return new WindowOp
                {
                    Name = path, Rows = Make(conv.kernel_size, conv.stride, conv.padding, 0), Cols = Make(conv.kernel_size, conv.stride, conv.padding, 1),
                    Fill = PadFill.Zeros, OutChannels = conv.out_channels, MacsPerOutput = weight.shape.Skip(1).Aggregate(1L, (a, b) => a * b),
                    Core = t => nn.functional.conv2d(t, weight, bias, strides: stride, padding: [0, 0], groups: groups),
                };
            }
            case StridedMaxPool2d mp:
            {
                var axis = new Axis(mp.KernelSize, mp.Stride, mp.Padding, mp.Padding);
                return new WindowOp
                {
                    Name = path, Rows = axis, Cols = axis, Fill = PadFill.NegativeInfinity, MacsPerOutput = mp.KernelSize * mp.KernelSize,
                    Core = t => StridedMaxPool2d.Pool(t, mp.KernelSize, mp.Stride),
                };
            }
            case AvgPool2d ap when !ap.ceil_mode && ap.divisor_override is null && (ap.padding is null || ap.padding.All(p => p == 0)):
            {
                Axis rows = Make(ap.kernel_size, ap.stride, null, 0), cols = Make(ap.kernel_size, ap.stride, null, 1);
                return new WindowOp
                {
                    Name = path, Rows = rows, Cols = cols, Fill = PadFill.Zeros, MacsPerOutput = rows.Kernel * cols.Kernel,
                    Core = t => nn.functional.avg_pool2d(t, [rows.Kernel, cols.Kernel], [rows.Stride, cols.Stride]),
                };
            }
            case BlurPool blur:
            {
                int f = blur.FilterSize, before = f == 1 ? 0 : (f - 1) / 2, after = f == 1 ? 0 : f - 1 - before;
                long s = blur.Stride, c = blur.Channels;
                var axis = new Axis(f, (int)s, before, after);
                return new WindowOp
                {
                    Name = path, Rows = axis, Cols = axis, Fill = PadFill.Reflect, MacsPerOutput = f * f,
                    Core = f == 1 ? t => t[.., .., TensorIndex.Slice(step: s), TensorIndex.Slice(step: s)]
                                  : t => nn.functional.conv2d(t, blur.Filter, strides: [s, s], groups: c),
                };
            }
            default:
                return null;
        }
    }
}
