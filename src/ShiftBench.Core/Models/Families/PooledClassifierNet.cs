using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ShiftBench.Models.Families;

/// <summary>
/// torchvision's AlexNet and VGG layout: `features`, an adaptive average pool to a fixed map, flatten, `classifier`.
/// Only the pool size and the classifier differ between the two, so one module serves both (same state-dict names).
/// </summary>
sealed class PooledClassifierNet : Module<Tensor, Tensor>, IStagedNetwork
{
    readonly Module<Tensor, Tensor> features, avgpool, classifier;

    public PooledClassifierNet(string name, Module<Tensor, Tensor> features, int pooledSize, Module<Tensor, Tensor> classifier) : base(name)
    {
        this.features = features;
        avgpool = AdaptiveAvgPool2d(pooledSize);
        this.classifier = classifier;
        RegisterComponents();
    }

    public IReadOnlyList<(string Name, Module<Tensor, Tensor> Module)> TrunkModules => [("features", features)];

    /// <summary>Everything after `features`: pool, flatten, classifier (its forward hooks fire as in forward).</summary>
    public Tensor Head(Tensor featureMap)
    {
        using var scope = NewDisposeScope();
        var x = avgpool.call(featureMap).flatten(1);
        return classifier.call(x).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return Head(this.Trunk(input)).MoveToOuterDisposeScope();
    }
}
