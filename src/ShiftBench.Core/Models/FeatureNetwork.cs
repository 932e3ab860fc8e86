using static TorchSharp.torch;

namespace ShiftBench.Models;

/// <summary>
/// A network as the runner sees it: an image batch in, named layer outputs out, each float32 [batch, dim]
/// on the CPU, contiguous and detached from any dispose scope (the caller disposes them), with the logits
/// under <see cref="ModelEntry.LogitsLayer"/>. Implemented by the TorchSharp zoo and by ONNX Runtime.
/// </summary>
public interface IFeatureNetwork : IDisposable
{
    Dictionary<string, Tensor> Forward(Tensor batch);
}

/// <summary>
/// A zoo network: the TorchSharp module, with forward hooks on the requested layers. With a reduced
/// <see cref="Precision"/> the module is already converted (ModelLoader); the float32 batch is converted here
/// and every output back to float32 (taps in FeatureTaps, logits below).
/// </summary>
public sealed class TorchFeatureNetwork : IFeatureNetwork
{
    readonly nn.Module<Tensor, Tensor> model;
    readonly FeatureTaps taps;
    readonly Precision precision;

    public TorchFeatureNetwork(nn.Module<Tensor, Tensor> model, IEnumerable<LayerTap> taps, Precision precision = Precision.Fp32)
    {
        this.model = model;
        Taps = taps.ToList();
        this.taps = new FeatureTaps(model, Taps);
        this.precision = precision;
    }

    /// <summary>The modules whose hooks record the layers (exact reuse must not skip them).</summary>
    public IReadOnlyList<LayerTap> Taps { get; }

    public nn.Module<Tensor, Tensor> Module => model;

    public Dictionary<string, Tensor> Forward(Tensor batch) =>
        Collect(() => model.call(precision == Precision.Fp32 ? batch : batch.to(precision.ScalarType())));

    /// <summary>The number format the module computes in (exact reuse computes in it too).</summary>
    public Precision Precision => precision;

    /// <summary>
    /// Runs <paramref name="logitsOf"/> (a forward pass of this module, whole or in pieces, e.g. exact reuse)
    /// and returns the tapped layers and the logits as <see cref="Forward"/> does.
    /// </summary>
    public Dictionary<string, Tensor> Collect(Func<Tensor> logitsOf)
    {
        Dictionary<string, Tensor> outputs;
        using (inference_mode()) // no autograd bookkeeping at all: measurably faster than no_grad here
        {
            var logits = logitsOf();
            outputs = taps.Take();
            outputs[ModelEntry.LogitsLayer] = logits.to(ScalarType.Float32);
            foreach (var t in outputs.Values) t.DetachFromDisposeScope();
            outputs = outputs.ToDictionary(kv => kv.Key, kv => kv.Value.cpu().contiguous());
        }
        return outputs;
    }

    public void Dispose()
    {
        taps.Dispose();
        model.Dispose();
    }
}
