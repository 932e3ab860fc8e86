using ShiftBench.Models;
using ShiftBench.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Runs;

/// <summary>
/// Builds a zoo network, loads its weights strictly, and readies it for inference on a device in a precision
/// (parameters and buffers converted after the float32 weights are loaded and checked).
/// </summary>
public static class ModelLoader
{
    public static nn.Module<Tensor, Tensor> Load(ModelEntry entry, WeightsSource weights, Device device, Precision precision = Precision.Fp32)
    {
        var model = entry.Build();
        if (weights.Path is { } path)
        {
            if (!File.Exists(path))
                throw new ShiftBenchException($"weights file {path} is missing: download {entry.Url} there (or run `shiftbench fetch --model {entry.Model} --variant {entry.VariantName}`)");
            var stateDict = RenameKeys(entry, PthFile.ReadStateDict(path));
            try { StateDictLoader.Load(model, stateDict, path, $"{entry.Model} ({entry.VariantName})"); }
            finally { foreach (var t in stateDict.Values) t.Dispose(); }
            // The published `filt` buffers must be the binomial filters the filter size implies.
            BlurPool.VerifyFilters(model);
        }
        else
        {
            DeterministicWeights.Fill(model);
        }
        model.eval();
        model.to(device);
        return precision == Precision.Fp32 ? model : model.to(precision.ScalarType());
    }

    /// <summary>Older published files name some keys differently (DenseNet's `norm.1`); maps them to the network's names.</summary>
    static OrderedDictionary<string, Tensor> RenameKeys(ModelEntry entry, OrderedDictionary<string, Tensor> stateDict)
    {
        if (stateDict.Keys.All(k => entry.ModelKey(k) == k)) return stateDict;
        var renamed = new OrderedDictionary<string, Tensor>();
        foreach (var (key, value) in stateDict) renamed[entry.ModelKey(key)] = value;
        return renamed;
    }
}
