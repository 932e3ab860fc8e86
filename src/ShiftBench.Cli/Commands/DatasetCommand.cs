using System.CommandLine;
using ShiftBench.Assets;
using ShiftBench.Datasets;

namespace ShiftBench.Cli.Commands;

public static class DatasetCommand
{
    public static Command Create()
    {
        var command = new Command("dataset", "Inspect shift datasets.");

        var showName = new Argument<string>("dataset") { Description = "Dataset name or YAML path" };
        var showStride = new Option<int?>("--stride") { Description = "Step between positions in pixels" };
        var show = new Command("show", "Print a dataset's geometry and number of positions.") { showName, showStride };
        show.SetAction(parse => CliRunner.Guard(() =>
        {
            var config = DatasetCatalog.Resolve(parse.GetValue(showName)!);
            int stride = parse.GetValue(showStride) ?? config.Stride;
            if (stride < 1) throw new ShiftBenchException($"--stride {stride} is invalid: use 1 or more");
            int perAxis = config.Offsets(stride).Count;
            Console.WriteLine($"name:         {config.Name}");
            Console.WriteLine($"config:       {config.ConfigPath}");
            Console.WriteLine($"kind:         {config.Kind}");
            Console.WriteLine($"geometry:     {config.KindType.Geometry(config)}");
            Console.WriteLine($"resize:       {config.ResizeMethod}");
            Console.WriteLine($"target class: {(config.TargetClass?.ToString() ?? "none")}");
            Console.WriteLine($"offsets:      {config.KindType.OffsetsText(config, stride)}");
            Console.WriteLine($"positions:    {perAxis}x{perAxis} = {perAxis * perAxis}");
            return 0;
        }));

        var renderDataset = new Option<string>("--dataset") { Description = "Dataset name or YAML path", Required = true };
        var at = new Option<string>("--at") { Description = "Position Y,X: grid offsets (pixels; steps for kind subpixel)", Required = true };
        var outFile = new Option<string>("--out") { Description = "PNG file to write", Required = true };
        var render = new Command("render", "Write the exact 8-bit image the network sees at a position.") { renderDataset, at, SharedOptions.DataDir, outFile };
        render.SetAction(parse => CliRunner.Guard(() =>
        {
            var config = DatasetCatalog.Resolve(parse.GetValue(renderDataset)!);
            string position = parse.GetValue(at)!;
            var parts = position.Split(',', ':');
            if (parts.Length != 2 || !int.TryParse(parts[0], out int y) || !int.TryParse(parts[1], out int x))
                throw new ShiftBenchException($"--at '{position}' is not a position: write Y,X in pixels, e.g. --at 12,40");
            using var dataset = ShiftDataset.Open(config, AssetPaths.Resolve(dataDir: parse.GetValue(SharedOptions.DataDir)).DataDir);
            using var image = dataset.Render8Bit(y, x);
            string path = parse.GetValue(outFile)!;
            Output.AtomicFile.Write(path, tmp => SourceImage.SavePng(image, tmp));
            Console.WriteLine($"{path}: {config.Name} at y={y}, x={x}");
            return 0;
        }));

        command.Subcommands.Add(show);
        command.Subcommands.Add(render);
        return command;
    }
}
