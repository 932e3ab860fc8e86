using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ShiftBench.Models.Families;

/// <summary>
/// torchvision's DenseNet and MobileNetV2 layout: `features`, a global pool to one value per channel, `classifier`.
/// Only the pool differs (DenseNet applies a ReLU first; the antialiased MobileNetV2 takes a mean), so one module
/// serves both with the same state-dict names.
/// </summary>
sealed class GlobalPoolClassifierNet : Module<Tensor, Tensor>, IStagedNetwork
{
    readonly Module<Tensor, Tensor> features, classifier;
    readonly Func<Tensor, Tensor> pool;

    /// <param name="pool">From the trunk's map (N, C, H, W) to the classifier's input (N, C).</param>
    public GlobalPoolClassifierNet(string name, Module<Tensor, Tensor> features, Func<Tensor, Tensor> pool, Module<Tensor, Tensor> classifier) : base(name)
    {
        this.features = features;
        this.pool = pool;
        this.classifier = classifier;
        RegisterComponents();
    }

    /// <summary>torchvision's global pool: adaptive average to 1 x 1, flattened.</summary>
    public static Tensor AveragePool(Tensor map) => functional.adaptive_avg_pool2d(map, 1).flatten(1);

    public IReadOnlyList<(string Name, Module<Tensor, Tensor> Module)> TrunkModules => [("features", features)];

    /// <summary>Everything after `features`: pool, classifier (its forward hooks fire as in forward).</summary>
    public Tensor Head(Tensor map)
    {
        using var scope = NewDisposeScope();
        return classifier.call(pool(map)).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return Head(this.Trunk(input)).MoveToOuterDisposeScope();
    }
}
