using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ShiftBench.Models.Families;

/// <summary>
/// A zoo network split where global pooling starts: the convolutional trunk, as its top-level modules in call order
/// (what exact reuse, Runs/Reuse, evaluates block by block), and the head after it. forward = Head(Trunk(x)).
/// </summary>
internal interface IStagedNetwork
{
    /// <summary>The trunk's top-level modules (state-dict names) in the order forward calls them.</summary>
    IReadOnlyList<(string Name, Module<Tensor, Tensor> Module)> TrunkModules { get; }

    /// <summary>Everything after the trunk: pooling and classifier (their forward hooks fire as in forward).</summary>
    Tensor Head(Tensor map);
}

internal static class StagedNetwork
{
    /// <summary>The trunk's output: the map just before global pooling.</summary>
    public static Tensor Trunk(this IStagedNetwork net, Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input;
        foreach (var (_, module) in net.TrunkModules) x = module.call(x);
        return x.MoveToOuterDisposeScope();
    }
}
