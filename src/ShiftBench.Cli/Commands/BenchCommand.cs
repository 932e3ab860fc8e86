using System.CommandLine;
using ShiftBench.Analysis;
using ShiftBench.Assets;
using ShiftBench.Datasets;
using ShiftBench.Models;
using ShiftBench.Models.Onnx;
using ShiftBench.Runs;
using ShiftBench.Workflows;

namespace ShiftBench.Cli.Commands;

public static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Network to measure: a zoo name or PATH.onnx", Required = true };
        var against = new Option<string?>("--against") { Description = "With an ONNX --model: also measure this zoo network (TorchSharp) on the same settings, e.g. alexnet" };
        var variant = new Option<string>("--variant") { Description = "torchvision or antialiased", DefaultValueFactory = _ => "torchvision" };
        var images = new Option<int>("--images") { Description = "Images per measurement", DefaultValueFactory = _ => 64 };
        var dataset = new Option<string>("--dataset") { Description = "Dataset for the end-to-end measurement", DefaultValueFactory = _ => "berry" };
        var layers = new Option<string[]>("--layers") { Description = "Zoo --model: layers the end-to-end run writes (default all named layers), as in `run --layers`", AllowMultipleArgumentsPerToken = true };
        var precision = new Option<string>(Precisions.OptionName)
        {
            Description = "fp32, bf16 or fp16, or a list such as fp32,bf16: each is timed, and each after the first is compared with the first on the benched positions",
            DefaultValueFactory = _ => "fp32",
        };
        var rounds = new Option<int>("--rounds")
        {
            Description = "Rounds of the reuse measurement (--reuse off and auto/on, alternating); the median is printed",
            DefaultValueFactory = _ => Runs.Reuse.ReuseBenchmark.DefaultRounds,
        };
        var weights = new Option<string?>("--weights") { Description = "Weights file for the grid comparison of --precision lists (default: synthetic weights; timings always use synthetic weights)" };
        var command = new Command("bench", "Measure forward-only and end-to-end images/s and GFLOP/s against the matmul peak.")
        {
            model, variant, SharedOptions.BatchSize, images, dataset, SharedOptions.DataDir, SharedOptions.DeviceOption, against, layers, precision, weights, SharedOptions.Reuse, SharedOptions.Stride, rounds,
        };
        foreach (var option in SharedOptions.OnnxOptionSet) command.Options.Add(option);
        command.SetAction((parse, cancel) => CliRunner.GuardAsync(async () =>
        {
            var config = DatasetCatalog.Resolve(parse.GetValue(dataset)!);
            var computeDevice = ComputeDevice.Resolve(parse.GetValue(SharedOptions.DeviceOption)!);
            var precisions = Precisions.ParseList(parse.GetValue(precision)!);
            string data = AssetPaths.Resolve(dataDir: parse.GetValue(SharedOptions.DataDir)).DataDir;
            if (SharedOptions.LoadOnnx(parse, parse.GetValue(model)!) is { } onnx)
            {
                foreach (var p in precisions) Precisions.CheckSupported(p, computeDevice, onnx: true);
                if (parse.GetValue(layers) is { Length: > 0 }) throw new ShiftBenchException("--layers applies to a zoo --model in bench; an ONNX model is measured on its logits");
                // ONNX Runtime and, when asked, the TorchSharp zoo network of the same architecture, same batch and images.
                int batch = parse.GetValue(SharedOptions.BatchSize) ?? onnx.FixedBatch ?? OnnxModel.DefaultBatchSize;
                var zooEntry = parse.GetValue(against) is { } name ? ModelRegistry.Find(name, ModelRegistry.ParseVariant(parse.GetValue(variant)!)) : null;
                var o = await ConsoleProgress.RunAsync(p => Task.Run(() => Benchmark.RunOnnx(onnx, config, data, batch, parse.GetValue(images), computeDevice, p), cancel));
                var z = zooEntry is null ? null
                    : await ConsoleProgress.RunAsync(p => Task.Run(() => Benchmark.Run(zooEntry, config, data, batch, parse.GetValue(images), computeDevice, p), cancel));
                Console.WriteLine($"batch {batch}, {o.Images} images, {computeDevice}, {o.Threads} torch threads");
                Console.WriteLine($"{"network",-34} {"forward only",14} {"end to end (run)",18}");
                Console.WriteLine($"{onnx.Name + " (ONNX Runtime " + OnnxFeatureNetwork.RuntimeVersion + ")",-34} {o.ForwardImagesPerSecond,9:F1} img/s {o.EndToEndImagesPerSecond,13:F1} img/s");
                if (z is not null)
                    Console.WriteLine($"{z.Model + " " + z.Variant + " (TorchSharp)",-34} {z.ForwardImagesPerSecond,9:F1} img/s {z.EndToEndImagesPerSecond,13:F1} img/s");
                return 0;
            }
            if (parse.GetValue(against) is not null) throw new ShiftBenchException("--against compares an ONNX --model with a zoo network: give --model PATH.onnx");
            var entry = ModelRegistry.Find(parse.GetValue(model)!, ModelRegistry.ParseVariant(parse.GetValue(variant)!));
            string reuseMode = parse.GetValue(SharedOptions.Reuse)!;
            Runs.Reuse.ReuseEngine.CheckMode(reuseMode);
            Runs.Reuse.ReuseBenchmark.CheckRounds(parse.GetValue(rounds));
            foreach (var p in precisions) Precisions.CheckSupported(p, computeDevice, onnx: false);
            int perBatch = parse.GetValue(SharedOptions.BatchSize) ?? entry.DefaultBatchSize, count = parse.GetValue(images);
            var gridWeights = parse.GetValue(weights) is { } w && w != WeightsSource.DeterministicName ? WeightsSource.File(w) : WeightsSource.Deterministic();
            if (gridWeights.Path is { } file && (precisions.Count < 2 || !File.Exists(file)))
                throw new ShiftBenchException(precisions.Count < 2
                    ? "--weights is for the grid comparison of two or more precisions: add e.g. --precision fp32,bf16 (timings use synthetic weights)"
                    : $"--weights {file} does not exist: give the {entry.VariantName} weights file of {entry.Model}");
            var results = await ConsoleProgress.RunAsync(progress => Task.Run(() => Benchmark.Run(entry, config, data, perBatch, count, computeDevice, precisions, progress, parse.GetValue(layers)), cancel));
            var deviations = await ConsoleProgress.RunAsync(progress => Task.Run(() =>
                PrecisionComparison.Measure(entry, gridWeights, config, data, count, perBatch, computeDevice, precisions, progress), cancel));
            foreach (var line in Table(results, deviations, config.Name, gridWeights, computeDevice.ToString())) Console.WriteLine(line);
            if (reuseMode != Runs.Reuse.ReuseEngine.OffMode)
                foreach (var line in ReuseLines(await ConsoleProgress.RunAsync(p => Task.Run(() => Runs.Reuse.ReuseBenchmark.Run(entry, config, data, parse.GetValue(SharedOptions.Stride),
                    perBatch, count, computeDevice, precisions, p, reuseMode, parse.GetValue(rounds), parse.GetValue(layers)), cancel)), results[0].GflopPerImage))
                    Console.WriteLine(line);
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// One row per precision (images/s, speed-up over the first row, GFLOP/s), then, for two or more, how far each
    /// precision's grids are from the first's on the benched positions.
    /// </summary>
    static IEnumerable<string> Table(IReadOnlyList<BenchResult> results, IReadOnlyList<PrecisionDeviation> deviations, string dataset, WeightsSource weights, string device)
    {
        var first = results[0];
        yield return $"model {first.Model} ({first.Variant}), batch {first.BatchSize}, {first.Images} images, {first.Threads} threads, {device}, " +
            $"{first.GflopPerImage:F2} GFLOP/image, float32 matmul peak {first.MatmulPeakGflops:F1} GFLOP/s";
        yield return $"{"precision",-10} {"forward only",14} {"end to end (run)",18} {"speed-up forward",17} {"end to end",11} {"GFLOP/s",8} {"of fp32 peak",13}";
        foreach (var r in results)
            yield return $"{r.Precision.Name(),-10} {r.ForwardImagesPerSecond,8:F1} img/s {r.EndToEndImagesPerSecond,12:F1} img/s " +
                $"{r.ForwardImagesPerSecond / first.ForwardImagesPerSecond,16:F2}x {r.EndToEndImagesPerSecond / first.EndToEndImagesPerSecond,10:F2}x " +
                $"{r.ForwardGflops,8:F1} {r.ShareOfPeak,13:P0}";
        if (results.FirstOrDefault(r => r.Precision == Precision.Fp32) is { } fp32)
        {
            var cpu = CpuInfo.Current();
            foreach (var r in results.Where(r => r.Precision != Precision.Fp32))
                yield return cpu.Verdict(r.Precision, r.ForwardImagesPerSecond / fp32.ForwardImagesPerSecond, r.EndToEndImagesPerSecond / fp32.EndToEndImagesPerSecond);
        }
        if (deviations.Count == 0) yield break;
        var d0 = deviations[0];
        yield return $"grids against {d0.Reference.Name()} on the {d0.Positions} benched positions of {dataset} (every layer's cosines to anchors {string.Join(",", Anchors.Named)}; " +
            $"{(weights.Path is null ? "synthetic weights" : Path.GetFileName(weights.Path))}):";
        yield return $"{"precision",-10} {"cosine max|d|",14} {"mean|d|",10} {"class p max|d|",15} {"mean|d|",10} {"same top-1",11}";
        foreach (var d in deviations)
            yield return $"{d.Precision.Name(),-10} {Num(d.Cosine.MaxAbs),14} {Num(d.Cosine.MeanAbs),10} {Num(d.Class?.MaxAbs),15} {Num(d.Class?.MeanAbs),10} {d.Top1Agreement,11:P1}";
    }

    static string Num(double? value) => value is { } v ? v.ToString("0.00e+00", System.Globalization.CultureInfo.InvariantCulture) : "-";

    /// <summary>
    /// Brute force against exact reuse on the dataset (end to end, the same layers as the table above) and the multiply-adds
    /// skipped, one line per precision; with several, each precision's reuse against the first's (the study's default path
    /// is fp32 with reuse).
    /// </summary>
    static IEnumerable<string> ReuseLines(IReadOnlyList<Runs.Reuse.ReuseBenchResult> results, double gflopPerImage)
    {
        static string Range(IReadOnlyList<double> v) => v.Count == 1 ? "" : $" ({v.Min():F1}-{v.Max():F1})";
        foreach (var b in results)
        {
            var rec = b.Record;
            // The cost model counts the convolutional chain; the share is of the whole network's GFLOP (2 x multiply-adds).
            double skipped = (rec.MacsPerImageBrute - rec.MacsPerImageReuse) * 2 / 1e9 / gflopPerImage;
            yield return $"reuse {b.Precision.Name()} ({b.Dataset}, stride {b.Stride}, {b.Images} images, median of {b.Rounds} alternating rounds): " +
                $"brute force {b.BruteMedian:F1} images/s{Range(b.BruteImagesPerSecond)}, reuse {b.ReuseMedian:F1} images/s{Range(b.ReuseImagesPerSecond)}, " +
                $"x{b.Speedup:F2}; FLOPs skipped {skipped:P0} (cost model)";
            yield return rec.Method is null ? $"reuse {b.Precision.Name()}       fallback: {rec.Fallback}" : $"reuse {b.Precision.Name()}       {rec.Method}, reused until {rec.ReusedUntil}";
        }
        var first = results[0];
        foreach (var b in results.Skip(1))
            yield return $"{b.Precision.Name()} with reuse is {b.ReuseMedian / first.ReuseMedian:F2}x {first.Precision.Name()} with reuse " +
                $"({b.BruteMedian / first.BruteMedian:F2}x brute force against brute force), the same rounds";
    }
}
