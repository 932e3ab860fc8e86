using static TorchSharp.torch;

namespace ShiftBench.Models.Families;

/// <summary>
/// A network family plus its parameters (torchvision's `_resnet(block, layers, ...)`): builds the
/// torchvision form (no filter) or Zhang's antialiased form (a BlurPool filter size), and names the
/// modules a run can read. Child module names reproduce the published state-dict keys of both forms.
/// </summary>
public abstract record ArchitectureSpec
{
    /// <summary>The family's name as shown by `shiftbench models` (resnet, vgg, densenet, alexnet, mobilenet_v2).</summary>
    public abstract string Family { get; }

    /// <summary>filterSize null: the torchvision network; otherwise the antialiased one with that BlurPool filter.</summary>
    public abstract nn.Module<Tensor, Tensor> Build(int? filterSize);

    /// <summary>The study's feature layers (`pool`, `fc6`, ...); `fc` and `class` come from the output.</summary>
    public abstract IReadOnlyList<LayerTap> Taps(bool antialiased);

    /// <summary>
    /// The main stages in forward order as module outputs (stem, each stage, ...): module paths that a
    /// depth profile reads. The pooled features and logits are the `pool` tap and `fc`.
    /// </summary>
    public abstract IReadOnlyList<LayerTap> Stages(bool antialiased);

    /// <summary>Maps a key of an older published file to today's name (DenseNet's `norm.1` -> `norm1`); identity by default.</summary>
    public virtual string RenameLegacyKey(string key) => key;
}
