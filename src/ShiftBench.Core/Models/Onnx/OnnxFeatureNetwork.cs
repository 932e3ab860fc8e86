using Microsoft.ML.OnnxRuntime;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Models.Onnx;

/// <summary>
/// An ONNX model run by ONNX Runtime: the requested tensors are added to the graph's outputs, each batch is
/// fed as float32 NCHW (channels flipped for a BGR model, a mean image subtracted where the model has one; split or
/// zero-padded to a fixed batch size), and each
/// layer's output reduced by its <see cref="LayerSpec"/>. A one-image forward pass at load checks every requested
/// tensor, so a run fails before its first file rather than at its first batch.
/// </summary>
public sealed class OnnxFeatureNetwork : IFeatureNetwork
{
    public const string CpuProvider = "CPUExecutionProvider";
    public const string CudaProvider = "CUDAExecutionProvider";

    readonly OnnxModel model;
    readonly InferenceSession session;
    readonly List<(string Layer, LayerSpec Spec)> layers;
    readonly string[] outputNames;

    public string ExecutionProvider { get; }
    /// <summary>Layer -> the reduction applied (gap or flat), known from the first forward pass.</summary>
    public Dictionary<string, string> Reductions { get; } = [];
    /// <summary>Layer -> the tensor's shape per image ([C, H, W] for a map), known from the first forward pass.</summary>
    public Dictionary<string, long[]> Shapes { get; } = [];
    public static string RuntimeVersion => OrtEnv.Instance().GetVersionString();

    /// <param name="layers">Resolved layer names (see <see cref="OnnxModel.ResolveLayers"/>); fc and class read the logits.</param>
    public OnnxFeatureNetwork(OnnxModel model, IEnumerable<string> layers, Device device)
    {
        this.model = model;
        var all = layers.ToList();
        if (model.LogitsTensor is null && all.FirstOrDefault(l => l is ModelEntry.LogitsLayer or ModelEntry.ClassLayer) is { } logitsLayer)
            throw new ShiftBenchException(model.NoLogits(logitsLayer));
        this.layers = all.Where(l => l is not (ModelEntry.LogitsLayer or ModelEntry.ClassLayer)).Select(l => (l, model.Spec(l))).ToList();
        outputNames = [.. this.layers.Select(l => l.Spec.Tensor).Concat(model.LogitsTensor is { } logits ? [logits] : []).Distinct()];
        var options = new SessionOptions();
        try
        {
            // The session is made from bytes (with extra outputs added), so external data is found beside the file, not in the working directory.
            options.AddSessionConfigEntry("session.model_external_initializers_file_folder_path", System.IO.Path.GetDirectoryName(model.Path)!);
            ExecutionProvider = CpuProvider;
            if (device.type == DeviceType.CUDA)
            {
                if (!OrtEnv.Instance().GetAvailableProviders().Contains(CudaProvider))
                    throw new ShiftBenchException($"--device cuda: this build's ONNX Runtime has no {CudaProvider}; build with -p:ShiftBenchCuda=true (Microsoft.ML.OnnxRuntime.Gpu.Linux) or use --device cpu");
                options.AppendExecutionProvider_CUDA(device.index < 0 ? 0 : device.index);
                ExecutionProvider = CudaProvider;
            }
            session = new InferenceSession(model.WithOutputs(outputNames), options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ShiftBenchException($"{model.Path}: ONNX Runtime {RuntimeVersion} cannot run this model: {FirstLine(e.Message)}");
        }
        finally
        {
            options.Dispose();
        }
        try
        {
            using var _ = NewDisposeScope();
            foreach (var t in Forward(zeros(1, 3, model.Size, model.Size)).Values) t.Dispose();
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    static string FirstLine(string text) => text.Split('\n')[0].Trim();

    public Dictionary<string, Tensor> Forward(Tensor batch)
    {
        using var scope = NewDisposeScope();
        var x = model.Prepare(batch.cpu().to(ScalarType.Float32));
        int n = (int)x.shape[0];
        int chunk = model.FixedBatch ?? n;
        var pieces = new List<Dictionary<string, Tensor>>();
        for (int start = 0; start < n; start += chunk)
        {
            int count = Math.Min(chunk, n - start);
            var part = x.narrow(0, start, count);
            if (count < chunk) part = cat([part, zeros(chunk - count, x.shape[1], x.shape[2], x.shape[3])]); // a fixed batch is filled up
            pieces.Add(RunOnce(part.contiguous(), count));
        }
        var result = new Dictionary<string, Tensor>();
        foreach (var key in pieces[0].Keys)
        {
            var value = (pieces.Count == 1 ? pieces[0][key] : cat(pieces.Select(p => p[key]).ToList())).contiguous();
            value.DetachFromDisposeScope();
            result[key] = value;
        }
        return result;
    }

    Dictionary<string, Tensor> RunOnce(Tensor input, int keep)
    {
        var shape = input.shape;
        using var value = OrtValue.CreateTensorValueFromMemory(TensorMemory.ToFloatArray(input), shape);
        using var runOptions = new RunOptions();
        IDisposableReadOnlyCollection<OrtValue> results;
        try
        {
            results = session.Run(runOptions, [model.Input.Name], [value], outputNames);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ShiftBenchException($"{model.Path}: ONNX Runtime failed on an input of shape [{string.Join(",", shape)}]: {FirstLine(e.Message)}");
        }
        using (results)
        {
            var byName = new Dictionary<string, Tensor>();
            for (int i = 0; i < outputNames.Length; i++)
            {
                var info = results[i].GetTensorTypeAndShape();
                if (info.ElementDataType != TensorElementType.Float)
                    throw new ShiftBenchException($"{model.Path}: tensor '{outputNames[i]}' is {info.ElementDataType}; layers and logits must be float32 tensors");
                var dims = info.Shape;
                if (dims.Length < 1 || dims[0] != shape[0])
                    throw new ShiftBenchException($"{model.Path}: tensor '{outputNames[i]}' has shape [{string.Join(",", dims)}], no batch dimension of {shape[0]}; choose a tensor with one row per image");
                byName[outputNames[i]] = torch.tensor(results[i].GetTensorDataAsSpan<float>().ToArray(), dims).narrow(0, 0, keep);
            }
            var outputs = new Dictionary<string, Tensor>();
            foreach (var (layer, spec) in layers)
            {
                var raw = byName[spec.Tensor];
                Reductions[layer] = LayerSpec.NameOf(spec.ReductionFor((int)raw.dim()));
                Shapes[layer] = raw.shape[1..];
                outputs[layer] = spec.Reduce(raw);
            }
            if (model.LogitsTensor is { } logits) outputs[ModelEntry.LogitsLayer] = byName[logits].flatten(1);
            // Caught here, at the first batch that has them, rather than as NaN grids at the end of the run.
            foreach (var (layer, values) in outputs)
                if (!torch.isfinite(values).all().item<bool>())
                    throw new ShiftBenchException($"{model.Path}: layer {layer} holds NaN or infinite values for an input of shape [{string.Join(",", shape)}]; " +
                        "check the model, its export, and its input normalisation (--mean, --std, --channels)");
            return outputs;
        }
    }

    public void Dispose() => session.Dispose();
}
