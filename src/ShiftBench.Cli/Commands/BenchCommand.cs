using System.CommandLine;
using ShiftBench.Assets;
using ShiftBench.Datasets;
using ShiftBench.Models;
using ShiftBench.Models.Onnx;
using ShiftBench.Runs;

namespace ShiftBench.Cli.Commands;

public static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Network to measure: a zoo name or PATH.onnx", Required = true };
        var against = new Option<string?>("--against") { Description = "With an ONNX --model: also measure this zoo network (TorchSharp) on the same settings, e.g. alexnet" };
        var variant = new Option<string>("--variant") { Description = "torchvision or antialiased", DefaultValueFactory = _ => "torchvision" };
        var batchSize = new Option<int?>("--batch-size") { Description = "Images per forward pass (default: the model's measured best)" };
        var images = new Option<int>("--images") { Description = "Images per measurement", DefaultValueFactory = _ => 64 };
        var dataset = new Option<string>("--dataset") { Description = "Dataset for the end-to-end measurement", DefaultValueFactory = _ => "berry" };
        var dataDir = new Option<string?>("--data-dir") { Description = "Folder of source images" };
        var layers = new Option<string[]>("--layers") { Description = "Zoo --model: layers the end-to-end run writes (default all named layers), as in `run --layers`", AllowMultipleArgumentsPerToken = true };
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda", DefaultValueFactory = _ => "cpu" };
        var command = new Command("bench", "Measure forward-only and end-to-end images/s and GFLOP/s against the matmul peak.")
        {
            model, variant, batchSize, images, dataset, dataDir, device, against, layers, RunCommand.Reuse, RunCommand.Stride,
        };
        foreach (var option in RunCommand.OnnxOptionSet) command.Options.Add(option);
        command.SetAction((parse, cancel) => CliRunner.GuardAsync(async () =>
        {
            var config = DatasetCatalog.Resolve(parse.GetValue(dataset)!);
            var computeDevice = ComputeDevice.Resolve(parse.GetValue(device)!);
            string data = AssetPaths.Resolve(dataDir: parse.GetValue(dataDir)).DataDir;
            if (RunCommand.LoadOnnx(parse, parse.GetValue(model)!) is { } onnx)
            {
                if (parse.GetValue(layers) is { Length: > 0 }) throw new ShiftBenchException("--layers applies to a zoo --model in bench; an ONNX model is measured on its logits");
                // ONNX Runtime and, when asked, the TorchSharp zoo network of the same architecture, same batch and images.
                int batch = parse.GetValue(batchSize) ?? onnx.FixedBatch ?? OnnxModel.DefaultBatchSize;
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
            var r = await ConsoleProgress.RunAsync(p => Task.Run(() => Benchmark.Run(entry, config,
                data, parse.GetValue(batchSize) ?? entry.DefaultBatchSize, parse.GetValue(images), computeDevice, p, parse.GetValue(layers)), cancel));
            Console.WriteLine($"model            {r.Model} ({r.Variant}), batch {r.BatchSize}, {r.Images} images, {r.Threads} threads, {computeDevice}");
            Console.WriteLine($"forward only     {r.ForwardImagesPerSecond,8:F1} images/s");
            Console.WriteLine($"end to end (run) {r.EndToEndImagesPerSecond,8:F1} images/s   ratio to forward {r.EndToEndOverForward:F2}");
            Console.WriteLine($"compute          {r.GflopPerImage,8:F2} GFLOP/image, {r.ForwardGflops:F1} GFLOP/s = {r.ShareOfPeak:P0} of matmul peak {r.MatmulPeakGflops:F1} GFLOP/s");
            string reuseMode = parse.GetValue(RunCommand.Reuse)!;
            Runs.Reuse.ReuseEngine.CheckMode(reuseMode);
            if (reuseMode != Runs.Reuse.ReuseEngine.OffMode)
                PrintReuse(await ConsoleProgress.RunAsync(p => Task.Run(() => Runs.Reuse.ReuseBenchmark.Run(entry, config, data, parse.GetValue(RunCommand.Stride),
                    parse.GetValue(batchSize) ?? entry.DefaultBatchSize, parse.GetValue(images), computeDevice, p), cancel)), r.GflopPerImage);
            return 0;
        }));
        return command;
    }

    /// <summary>Brute force against exact reuse on the dataset (end to end, class layer only) and the multiply-adds skipped.</summary>
    static void PrintReuse(Runs.Reuse.ReuseBenchResult b, double gflopPerImage)
    {
        var rec = b.Record;
        // The cost model counts the convolutional chain; the share is of the whole network's GFLOP (2 x multiply-adds).
        double skipped = (rec.MacsPerImageBrute - rec.MacsPerImageReuse) * 2 / 1e9 / gflopPerImage;
        Console.WriteLine($"reuse ({b.Dataset}, stride {b.Stride}, {b.Images} images): brute force {b.BruteImagesPerSecond:F1} images/s, " +
            $"reuse {b.ReuseImagesPerSecond:F1} images/s, x{b.Speedup:F2}; FLOPs skipped {skipped:P0} (cost model)");
        Console.WriteLine(rec.Method is null ? $"reuse            fallback: {rec.Fallback}" : $"reuse            {rec.Method}, reused until {rec.ReusedUntil}");
    }
}
