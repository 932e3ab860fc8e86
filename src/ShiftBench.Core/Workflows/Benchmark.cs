using System.Diagnostics;
using ShiftBench.Datasets;
using ShiftBench.Models;
using ShiftBench.Models.Onnx;
using ShiftBench.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Workflows;

public sealed record BenchResult(string Model, string Variant, int BatchSize, int Images, int Threads,
    double ForwardImagesPerSecond, double EndToEndImagesPerSecond, double GflopPerImage, double MatmulPeakGflops, Precision Precision = Precision.Fp32)
{
    public double EndToEndOverForward => EndToEndImagesPerSecond / ForwardImagesPerSecond;
    public double ForwardGflops => GflopPerImage * ForwardImagesPerSecond;
    public double ShareOfPeak => ForwardGflops / MatmulPeakGflops;
}

/// <summary>
/// Speed of one network on this machine: forward-only images/s, end-to-end `run` images/s (dataset
/// batches, hooks, row files), and achieved GFLOP/s against a measured float32 matrix-multiply peak, in a given
/// precision. Uses synthetic weights: speed does not depend on their values.
/// </summary>
public static class Benchmark
{
    public static BenchResult Run(ModelEntry entry, DatasetConfig dataset, string dataDir, int batchSize, int images, Device device, IProgress<ProgressUpdate>? progress = null,
        IReadOnlyList<string>? layers = null, Precision precision = Precision.Fp32) =>
        Run(entry, dataset, dataDir, batchSize, images, device, [precision], progress, layers)[0];

    /// <summary>
    /// Several precisions: every forward-only measurement first, back to back, then every end-to-end one, so that
    /// the ratios between precisions are not skewed by a change of load between widely separated measurements.
    /// </summary>
    public static IReadOnlyList<BenchResult> Run(ModelEntry entry, DatasetConfig dataset, string dataDir, int batchSize, int images, Device device,
        IReadOnlyList<Precision> precisions, IProgress<ProgressUpdate>? progress = null, IReadOnlyList<string>? layers = null)
    {
        foreach (var precision in precisions) Precisions.CheckSupported(precision, device, onnx: false);
        if (batchSize < 1) throw new ShiftBenchException($"--batch-size {batchSize} is invalid: use 1 or more");
        if (images < batchSize) throw new ShiftBenchException($"--images {images} is smaller than --batch-size {batchSize}: use at least one batch");
        double gflop = GflopPerImage(entry);
        var forward = new List<double>();
        foreach (var precision in precisions)
        {
            using var model = ModelLoader.Load(entry, WeightsSource.Deterministic(), device, precision);
            forward.Add(ForwardImagesPerSecond(model, batchSize, images, device, precision, progress));
        }
        double peak = MatmulPeakGflops(device);

        string outRoot = Directory.CreateTempSubdirectory("shiftbench-bench-").FullName;
        try
        {
            return [.. precisions.Select((precision, i) =>
            {
                var request = new RunRequest
                {
                    Model = entry, Dataset = dataset, DataDir = dataDir, Weights = WeightsSource.Deterministic(),
                    BatchSize = batchSize, OutRoot = Path.Combine(outRoot, precision.Name()), Device = device, Precision = precision, MaxPositions = images, Layers = layers ?? [],
                    // Brute force, so precisions compare like for like; ReuseBenchmark measures reuse in each precision.
                    Reuse = Runs.Reuse.ReuseEngine.OffMode,
                };
                var endToEnd = ExperimentRunner.Run(request, progress);
                return new BenchResult(entry.Model, entry.VariantName, batchSize, images, get_num_threads(),
                    forward[i], endToEnd.ImagesPerSecond, gflop, peak, precision);
            })];
        }
        finally
        {
            Directory.Delete(outRoot, recursive: true);
        }
    }

    /// <summary>
    /// An ONNX file under ONNX Runtime: forward-only images/s (one session call per batch, logits only) and
    /// end-to-end `run` images/s. GFLOP/s is not measured (NaN): the graph's operators are not counted.
    /// </summary>
    public static BenchResult RunOnnx(OnnxModel onnx, DatasetConfig dataset, string dataDir, int batchSize, int images, Device device, IProgress<ProgressUpdate>? progress = null)
    {
        if (batchSize < 1) throw new ShiftBenchException($"--batch-size {batchSize} is invalid: use 1 or more");
        if (images < batchSize) throw new ShiftBenchException($"--images {images} is smaller than --batch-size {batchSize}: use at least one batch");
        double forward;
        // The logits only; a network without a classifier, its named layers.
        IReadOnlyList<string> layers = onnx.LogitsTensor is null ? onnx.ResolveLayers([]) : [ModelEntry.LogitsLayer];
        using (var network = new OnnxFeatureNetwork(onnx, layers, device))
        using (var input = randn(batchSize, 3, onnx.Size, onnx.Size))
        {
            foreach (var t in network.Forward(input).Values) t.Dispose(); // warm-up
            const string task = "forward only (ONNX Runtime)";
            var clock = Stopwatch.StartNew();
            progress?.Report(new ProgressUpdate(task, 0, images, "images")); // the rate's start, as the clock's
            int done = 0;
            for (; done < images; done += batchSize)
            {
                foreach (var t in network.Forward(input).Values) t.Dispose();
                progress?.Report(new ProgressUpdate(task, done + batchSize, images, "images"));
            }
            forward = done / clock.Elapsed.TotalSeconds;
        }
        string outRoot = Directory.CreateTempSubdirectory("shiftbench-bench-").FullName;
        try
        {
            var endToEnd = ExperimentRunner.Run(new RunRequest
            {
                Onnx = onnx, Dataset = dataset, DataDir = dataDir, Weights = WeightsSource.File(onnx.Path), Layers = layers,
                BatchSize = batchSize, OutRoot = outRoot, Device = device, MaxPositions = images,
            }, progress);
            return new BenchResult(onnx.Name, OnnxModel.VariantName, batchSize, images, get_num_threads(),
                forward, endToEnd.ImagesPerSecond, double.NaN, double.NaN);
        }
        finally
        {
            Directory.Delete(outRoot, recursive: true);
        }
    }

    /// <summary>
    /// Images/s of forward passes on one random batch after a warm-up pass: at least <c>images</c> images, whole
    /// batches. Progress starts at 0 images when the clock starts, so its last rate is the figure returned.
    /// </summary>
    public static double ForwardImagesPerSecond(nn.Module<Tensor, Tensor> model, int batchSize, int images, Device device, Precision precision, IProgress<ProgressUpdate>? progress)
    {
        using var _ = inference_mode();
        using var input = randn(batchSize, 3, 224, 224, dtype: precision.ScalarType(), device: device);
        model.call(input).Dispose(); // warm-up: first-call allocations and kernel selection
        string task = $"forward only ({precision.Name()})";
        var clock = Stopwatch.StartNew();
        progress?.Report(new ProgressUpdate(task, 0, images, "images"));
        int done = 0;
        for (; done < images; done += batchSize)
        {
            using var output = model.call(input);
            if (device.type == DeviceType.CUDA) cuda.synchronize();
            progress?.Report(new ProgressUpdate(task, done + batchSize, images, "images"));
        }
        return done / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Multiply-adds x 2 of every convolution and linear layer for one 224x224 image.</summary>
    public static double GflopPerImage(ModelEntry entry)
    {
        using var model = entry.Build();
        model.eval();
        double flops = 0;
        var removers = new List<Action>();
        foreach (var (_, module) in model.named_modules())
        {
            if (module is nn.Module<Tensor, Tensor> layer && (module is TorchSharp.Modules.Conv2d || module is TorchSharp.Modules.Linear))
            {
                var hook = layer.register_forward_hook((m, input, output) =>
                {
                    var weight = m is TorchSharp.Modules.Conv2d c ? c.weight! : ((TorchSharp.Modules.Linear)m).weight!;
                    long perOutput = weight.shape.Skip(1).Aggregate(1L, (a, b) => a * b); // in/groups x kh x kw
                    flops += 2.0 * perOutput * output.numel();
                    return output;
                });
                removers.Add(hook.remove);
            }
        }
        using (no_grad())
        using (var input = zeros(1, 3, 224, 224))
            model.call(input).Dispose();
        foreach (var remove in removers) remove();
        return flops / 1e9;
    }

    /// <summary>Best of a few 1024x1024 float32 matrix products: the machine's practical GEMM peak.</summary>
    public static double MatmulPeakGflops(Device device)
    {
        const int n = 1024;
        using var _ = no_grad();
        using var a = randn(n, n, device: device);
        using var b = randn(n, n, device: device);
        a.mm(b).Dispose();
        double best = 0;
        for (int trial = 0; trial < 5; trial++)
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < 4; i++) a.mm(b).Dispose();
            if (device.type == DeviceType.CUDA) cuda.synchronize();
            best = Math.Max(best, 4 * 2.0 * n * n * n / clock.Elapsed.TotalSeconds / 1e9);
        }
        return best;
    }
}
