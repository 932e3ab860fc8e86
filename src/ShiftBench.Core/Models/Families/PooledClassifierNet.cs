using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ShiftBench.Models.Families;

/// <summary>
/// torchvision's layout for AlexNet, VGG, DenseNet and MobileNetV2: `features`, a pool to a fixed map, flatten,
/// `classifier`. Only the pool differs between them, so one module serves all four (same state-dict names).
/// </summary>
sealed class PooledClassifierNet : Module<Tensor, Tensor>, IStagedNetwork
{
    readonly Module<Tensor, Tensor> features, classifier;
    readonly Func<Tensor, Tensor> pool;

    /// <summary>AlexNet and VGG: the pool is a module, `avgpool` (adaptive average to pooledSize x pooledSize).</summary>
    public PooledClassifierNet(string name, Module<Tensor, Tensor> features, int pooledSize, Module<Tensor, Tensor> classifier) : base(name)
    {
        var avgpool = AdaptiveAvgPool2d(pooledSize);
        (this.features, this.classifier, pool) = (features, classifier, map => avgpool.call(map).flatten(1));
        register_module("features", features);
        register_module("avgpool", avgpool);
        register_module("classifier", classifier);
    }

    /// <summary>DenseNet and MobileNetV2: the pool is a function, as in torchvision, which names no module for it.</summary>
    /// <param name="pool">From the trunk's map (N, C, H, W) to the classifier's input (N, C).</param>
    public PooledClassifierNet(string name, Module<Tensor, Tensor> features, Func<Tensor, Tensor> pool, Module<Tensor, Tensor> classifier) : base(name)
    {
        (this.features, this.classifier, this.pool) = (features, classifier, pool);
        register_module("features", features);
        register_module("classifier", classifier);
    }

    /// <summary>torchvision's global pool: adaptive average to 1 x 1, flattened.</summary>
    public static Tensor GlobalAveragePool(Tensor map) => functional.adaptive_avg_pool2d(map, 1).flatten(1);

    public IReadOnlyList<(string Name, Module<Tensor, Tensor> Module)> TrunkModules => [("features", features)];

    /// <summary>Everything after `features`: pool, flatten, classifier (its forward hooks fire as in forward).</summary>
    public Tensor Head(Tensor featureMap)
    {
        using var scope = NewDisposeScope();
        return classifier.call(pool(featureMap)).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return Head(this.Trunk(input)).MoveToOuterDisposeScope();
    }
}
