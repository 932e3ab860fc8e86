using System.Text.Json.Nodes;
using ShiftBench.Analysis;
using ShiftBench.Datasets;
using ShiftBench.Models;
using ShiftBench.Models.Onnx;
using ShiftBench.Output;
using ShiftBench.Runs;

namespace ShiftBench.Tests;

/// <summary>
/// ONNX networks exported by real PyTorch (OnnxExports) run through ShiftBench's ONNX Runtime path: their grids
/// against PyTorch's on the same images, and their features against ShiftBench's own TorchSharp network with the
/// same weights.
/// </summary>
public class OnnxParityTests
{
    const double Tolerance = 1e-4; // max|ONNX - reference| / max|reference|

    /// <summary>
    /// AlexNet and ResNet-50 with the generator's weights against the committed grids PyTorch computed for them
    /// (make_run_fixtures.py): the fixture's `pool` is ONNX's Flatten output, fc7 the classifier's Gemm, and for
    /// ResNet-50 also layer4's last ReLU reduced by @gap (torchvision's avgpool), all intermediate tensors.
    /// </summary>
    [TestCase("berry", "alexnet", 31, new[] { "pool", "fc7" })]
    [TestCase("plane", "resnet50", 44, new[] { "pool", "layer4@gap" })]
    public void GridsMatchPyTorchAndTheZooNetwork(string dataset, string model, int stride, string[] fixtureLayers)
    {
        var names = OnnxExports.Manifest[model]!;
        string Tensor(string layer) => layer.EndsWith("@gap") ? names[layer[..^4]]!.GetValue<string>() + "@gap" : names[layer]!.GetValue<string>();
        var onnx = OnnxModel.Load(OnnxExports.File_(model + ".onnx"));
        var specs = fixtureLayers.Select(Tensor).ToList();
        using var dir = TestPaths.NewTempDir();
        var result = ExperimentRunner.Run(new RunRequest
        {
            Onnx = onnx, Dataset = DatasetCatalog.Resolve(dataset), DataDir = TestPaths.DataDir, Weights = WeightsSource.File(onnx.Path),
            Layers = [.. specs, "fc", "class"], Stride = stride, BatchSize = 8, OutRoot = dir, Features = FeatureStorage.Fp32,
        });
        Assert.That(result.RunDirectory, Is.EqualTo(Path.Combine(dir, dataset, model, "onnx")));

        string expected = TestPaths.Fixture("run", $"{dataset}-{model}");
        for (int i = 0; i < fixtureLayers.Length; i++)
        {
            string fixtureLayer = fixtureLayers[i].Replace("layer4@gap", "pool"); // torchvision's avgpool is layer4 pooled
            foreach (var anchor in Anchors.Named)
            {
                var (want, _) = GridCsv.Read(Path.Combine(expected, $"cos-{fixtureLayer}-{anchor}.csv"));
                var (got, _) = GridCsv.Read(Path.Combine(result.RunDirectory, $"cos-{LayerSpec.FileSafe(specs[i])}-{anchor}.csv"));
                Assert.That(MaxAbsDifference(got, want), Is.LessThan(1e-5), $"{specs[i]} anchor {anchor}");
                Assert.That(Spread(want), Is.GreaterThan(1e-4), "the reference grid is not flat");
            }
        }
        var (wantClass, _) = GridCsv.Read(Path.Combine(expected, "class.csv"));
        var (gotClass, _) = GridCsv.Read(Path.Combine(result.RunDirectory, "class.csv"));
        Assert.That(MaxAbsDifference(gotClass, wantClass) / wantClass.Cast<double>().Max(), Is.LessThan(Tolerance), "class probability, relative");
        var wantTop1 = File.ReadAllText(Path.Combine(expected, "top1.txt")).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(long.Parse);
        Assert.That(Npy.ReadInt64(Path.Combine(result.RunDirectory, "top1.npy")).Data, Is.EqualTo(wantTop1));

        // The same network in ShiftBench's TorchSharp zoo, same generator weights: features agree layer by layer.
        var zoo = ExperimentRunner.Run(new RunRequest
        {
            Model = ModelRegistry.Find(model, ModelVariant.Torchvision), Dataset = DatasetCatalog.Resolve(dataset), DataDir = TestPaths.DataDir,
            Weights = WeightsSource.Deterministic(), Layers = ["pool", .. model == "alexnet" ? new[] { "fc7" } : [], "fc"], Stride = stride, BatchSize = 8, OutRoot = dir, Features = FeatureStorage.Fp32,
        });
        var pairs = new List<(string Zoo, string Onnx)> { ("fc", "fc") };
        for (int i = 0; i < fixtureLayers.Length; i++) pairs.Add((fixtureLayers[i].Replace("layer4@gap", "pool"), LayerSpec.FileSafe(specs[i])));
        foreach (var (zooLayer, onnxLayer) in pairs)
        {
            var (want, wantShape) = Npy.ReadFloat32(Path.Combine(zoo.RunDirectory, $"features-{zooLayer}.npy"));
            var (got, gotShape) = Npy.ReadFloat32(Path.Combine(result.RunDirectory, $"features-{onnxLayer}.npy"));
            Assert.That(gotShape, Is.EqualTo(wantShape), onnxLayer);
            double scale = want.Max(v => Math.Abs((double)v));
            double error = got.Zip(want).Max(p => Math.Abs((double)p.First - p.Second)) / scale;
            TestContext.Out.WriteLine($"{model} {onnxLayer} vs zoo {zooLayer}: max relative error {error:G3}");
            Assert.That(error, Is.LessThan(Tolerance), $"{onnxLayer} vs TorchSharp {zooLayer}");
            Assert.That(scale, Is.GreaterThan(0));
        }
    }

    /// <summary>
    /// A ConvNeXt (reduced width; an architecture ShiftBench has no TorchSharp code for), through the CLI: a graph
    /// output (the last feature map, pooled by default), an intermediate tensor with @gap and with @flat, fc and
    /// class, against PyTorch's grids on the same berry images; a fixed batch of 4 for 25 positions (last batch padded).
    /// </summary>
    [Test]
    public void ConvNeXtGraphOutputAndIntermediateMatchPyTorch()
    {
        var manifest = OnnxExports.Manifest["convnext"]!;
        var specs = manifest["specs"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<string>());
        specs["fc"] = "fc";
        string model = OnnxExports.File_("convnext.onnx");
        using var dir = TestPaths.NewTempDir();
        var (code, _, stderr) = TestCli.Run("run", "--model", model, "--dataset", "berry", "--stride", "31", "--out", dir,
            "--layers", string.Join(",", specs.Values.Append("class")), "--features", "fp32");
        Assert.That(code, Is.EqualTo(0), stderr);
        string run = Path.Combine(dir, "berry", "convnext", "onnx");
        string reference = Path.Combine(OnnxExports.Folder, "convnext-ref");
        foreach (var (key, spec) in specs)
        {
            var (_, shape) = Npy.ReadFloat32(Path.Combine(run, $"features-{LayerSpec.FileSafe(spec)}.npy"));
            Assert.That(shape, Is.EqualTo(new long[] { 25, manifest["dims"]![key]!.GetValue<long>() }), spec);
            foreach (var anchor in Anchors.Named)
            {
                var (want, _) = GridCsv.Read(Path.Combine(reference, $"cos-{key}-{anchor}.csv"));
                var (got, _) = GridCsv.Read(Path.Combine(run, $"cos-{LayerSpec.FileSafe(spec)}-{anchor}.csv"));
                // Pooled ConvNeXt features vary little over positions: the error must be far below the grid's own spread.
                Assert.That(MaxAbsDifference(got, want), Is.LessThan(Math.Min(1e-5, Spread(want) / 100)), $"{spec} anchor {anchor}");
                Assert.That(Spread(want), Is.GreaterThan(1e-5), $"{key}: the reference grid is not flat");
            }
        }
        var (wantClass, _) = GridCsv.Read(Path.Combine(reference, "class.csv"));
        var (gotClass, _) = GridCsv.Read(Path.Combine(run, "class.csv"));
        Assert.That(MaxAbsDifference(gotClass, wantClass) / wantClass.Cast<double>().Max(), Is.LessThan(Tolerance), "class probability, relative");

        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "run.json")))!;
        Assert.That(json["model"]!.GetValue<string>(), Is.EqualTo("convnext"));
        Assert.That(json["variant"]!.GetValue<string>(), Is.EqualTo("onnx"));
        Assert.That(json["batch_size"]!.GetValue<int>(), Is.EqualTo(4), "the model's fixed batch");
        var onnx = json["onnx"]!;
        Assert.That(onnx["sha256"]!.GetValue<string>(), Is.EqualTo(FileHash.Sha256(model)));
        Assert.That(json["weights"]!["sha256"]!.GetValue<string>(), Is.EqualTo(FileHash.Sha256(model)));
        Assert.That(onnx["opset"]!.GetValue<long>(), Is.EqualTo(13));
        Assert.That(onnx["producer"]!.GetValue<string>(), Does.StartWith("pytorch 1."));
        Assert.That(onnx["onnxruntime"]!.GetValue<string>(), Does.StartWith("1.31."));
        Assert.That(onnx["execution_provider"]!.GetValue<string>(), Is.EqualTo("CPUExecutionProvider"));
        Assert.That(onnx["layers"]!["features"]!["reduction"]!.GetValue<string>(), Is.EqualTo("gap"), "4-D outputs are pooled by default");
        Assert.That(onnx["layers"]![LayerSpec.FileSafe(specs["intermediate_flat"])]!["tensor"]!.GetValue<string>(), Is.EqualTo(specs["intermediate_flat"][..^5]));
    }

    static double MaxAbsDifference(double[,] a, double[,] b) =>
        a.Cast<double>().Zip(b.Cast<double>()).Max(p => Math.Abs(p.First - p.Second));

    static double Spread(double[,] grid) => grid.Cast<double>().Max() - grid.Cast<double>().Min();
}
