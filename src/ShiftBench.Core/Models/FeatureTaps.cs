using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Models;

/// <summary>
/// Records named layers during a forward pass through forward hooks on the named modules (timm-style
/// access by module name). Each capture is flattened to [batch, dim] (or reduced by the tap's LayerSpec) and
/// copied at once, so an in-place ReLU that follows (fc6 -> fc6relu) cannot change it.
/// </summary>
public sealed class FeatureTaps : IDisposable
{
    readonly Dictionary<string, Tensor> captured = [];
    readonly List<Action> removeHooks = [];

    public FeatureTaps(nn.Module model, IEnumerable<LayerTap> taps)
    {
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        foreach (var tap in taps)
        {
            if (!modules.TryGetValue(tap.Module, out var found) || found is not nn.Module<Tensor, Tensor> module)
                throw new InvalidOperationException($"layer '{tap.Name}' names module '{tap.Module}', which the model does not have");
            string name = tap.Name;
            var spec = tap.Spec;
            var hook = tap.Point == TapPoint.Output
                ? module.register_forward_hook((_, _, output) => { Keep(name, output, spec); return output; })
                : module.register_forward_pre_hook((_, input) => { Keep(name, input, spec); return input; });
            removeHooks.Add(hook.remove);
        }
    }

    void Keep(string name, Tensor value, LayerSpec? spec)
    {
        if (captured.Remove(name, out var old)) old.Dispose();
        var copy = (spec is null ? value.flatten(1).to(ScalarType.Float32) : spec.Reduce(value)).clone();
        copy.DetachFromDisposeScope();
        captured[name] = copy;
    }

    /// <summary>Hands over what the last forward pass recorded; the caller disposes the tensors.</summary>
    public Dictionary<string, Tensor> Take()
    {
        var result = new Dictionary<string, Tensor>(captured);
        captured.Clear();
        return result;
    }

    public void Dispose()
    {
        foreach (var remove in removeHooks) remove();
        foreach (var t in captured.Values) t.Dispose();
        captured.Clear();
    }
}
