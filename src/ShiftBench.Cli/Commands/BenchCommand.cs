using System.CommandLine;
using ShiftBench.Assets;
using ShiftBench.Datasets;
using ShiftBench.Models;
using ShiftBench.Runs;

namespace ShiftBench.Cli.Commands;

public static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Network to measure", Required = true };
        var variant = new Option<string>("--variant") { Description = "torchvision or antialiased", DefaultValueFactory = _ => "torchvision" };
        var batchSize = new Option<int?>("--batch-size") { Description = "Images per forward pass (default: the model's measured best)" };
        var images = new Option<int>("--images") { Description = "Images per measurement", DefaultValueFactory = _ => 64 };
        var dataset = new Option<string>("--dataset") { Description = "Dataset for the end-to-end measurement", DefaultValueFactory = _ => "berry" };
        var dataDir = new Option<string?>("--data-dir") { Description = "Folder of source images" };
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda", DefaultValueFactory = _ => "cpu" };
        var command = new Command("bench", "Measure forward-only and end-to-end images/s and GFLOP/s against the matmul peak.")
        {
            model, variant, batchSize, images, dataset, dataDir, device,
        };
        command.SetAction((parse, cancel) => CliRunner.GuardAsync(async () =>
        {
            var entry = ModelRegistry.Find(parse.GetValue(model)!, parse.GetValue(variant)!);
            var config = DatasetCatalog.Resolve(parse.GetValue(dataset)!);
            var computeDevice = ComputeDevice.Resolve(parse.GetValue(device)!);
            var r = await ConsoleProgress.RunAsync(p => Task.Run(() => Benchmark.Run(entry, config,
                AssetPaths.Resolve(dataDir: parse.GetValue(dataDir)).DataDir, parse.GetValue(batchSize) ?? entry.DefaultBatchSize, parse.GetValue(images), computeDevice, p), cancel));
            Console.WriteLine($"model            {r.Model} ({r.Variant}), batch {r.BatchSize}, {r.Images} images, {r.Threads} threads, {computeDevice}");
            Console.WriteLine($"forward only     {r.ForwardImagesPerSecond,8:F1} images/s");
            Console.WriteLine($"end to end (run) {r.EndToEndImagesPerSecond,8:F1} images/s   ratio to forward {r.EndToEndOverForward:F2}");
            Console.WriteLine($"compute          {r.GflopPerImage,8:F2} GFLOP/image, {r.ForwardGflops:F1} GFLOP/s = {r.ShareOfPeak:P0} of matmul peak {r.MatmulPeakGflops:F1} GFLOP/s");
            return 0;
        }));
        return command;
    }
}
