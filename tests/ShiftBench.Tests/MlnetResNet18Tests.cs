using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;
using ShiftBench.Datasets;
using ShiftBench.Models;
using ShiftBench.Models.Onnx;
using static TorchSharp.torch;

namespace ShiftBench.Tests;

/// <summary>
/// mlnet_resnet18, the packaged network (ML.NET's ResNet-18 from NuGet): our preprocessing and features against ML.NET's
/// two ONNX files run unmodified by ONNX Runtime on real plane crops, and a run through the CLI with no download.
/// </summary>
public class MlnetResNet18Tests
{
    static PackagedNetwork Network => PackagedNetworks.MlnetResNet18;

    /// <summary>Plane crops at a few positions: top-left, middle, bottom-right of the 133x133 grid.</summary>
    static readonly (int Y, int X)[] Positions = [(0, 0), (66, 33), (132, 132)];

    /// <summary>Runs one of the package's files, as published, on one float32 tensor and returns its only output.</summary>
    static float[] RunGraph(string path, Tensor input)
    {
        using var session = new InferenceSession(path);
        using var value = OrtValue.CreateTensorValueFromMemory(input.contiguous().data<float>().ToArray(), input.shape);
        using var options = new RunOptions();
        using var results = session.Run(options, [session.InputNames[0]], [value], [session.OutputNames[0]]);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    static ShiftDataset OpenPlane(OnnxModel model) =>
        ShiftDataset.Open(DatasetCatalog.Resolve("plane"), TestPaths.DataDir, stride: 1, mean: model.Mean, std: model.Std);

    [Test]
    public void PreprocessingEqualsResNetPreprocessOnnxBitForBit()
    {
        var model = OnnxModel.Load(Network);
        Assert.That(model.Bgr, Is.True, "the graph concatenates B, G, R");
        using var dataset = OpenPlane(model);
        foreach (var (y, x) in Positions)
        {
            using var scope = NewDisposeScope();
            int index = y * dataset.Cols + x; // stride 1: offsets are pixels
            var ours = model.Prepare(dataset.Batch(index, 1)).data<float>().ToArray();
            var image8 = dataset.Render8Bit(y, x).unsqueeze(0); // RGB 0..255, as ML.NET's graph takes it
            var reference = RunGraph(Network.PreprocessPath, image8);
            Assert.That(ours, Has.Length.EqualTo(3 * 224 * 224));
            int differing = ours.Zip(reference).Count(p => BitConverter.SingleToInt32Bits(p.First) != BitConverter.SingleToInt32Bits(p.Second));
            Assert.That(differing, Is.Zero, $"position {y},{x}: values differing from ResNetPreprocess.onnx");

            // The mean image is not per-channel means: subtracting each channel's average of it moves inputs by whole levels.
            var meanImage = image8.flip(1).sub(tensor(reference, [1, 3, 224, 224]));
            double gap = meanImage.sub(meanImage.mean([2, 3], keepdim: true)).abs().max().item<float>();
            Assert.That(gap, Is.GreaterThan(5), "per-channel means would be a different preprocessing");
        }
    }

    [Test]
    public void PoolEqualsMlnetGraphsRunStraightThrough()
    {
        var model = OnnxModel.Load(Network);
        using var dataset = OpenPlane(model);
        using var network = new OnnxFeatureNetwork(model, model.ResolveLayers([ZooLayers.StagesKeyword]), CPU);
        double worst = 0;
        foreach (var (y, x) in Positions)
        {
            using var scope = NewDisposeScope();
            int index = y * dataset.Cols + x; // stride 1: offsets are pixels
            var outputs = network.Forward(dataset.Batch(index, 1));
            Assert.That(outputs.Keys, Is.EquivalentTo(new[] { "stem@gap", "layer1@gap", "layer2@gap", "layer3@gap", "layer4@gap", "pool" }), "no fc without a classifier");
            var ours = outputs["pool"].data<float>().ToArray();
            var prepared = RunGraph(Network.PreprocessPath, dataset.Render8Bit(y, x).unsqueeze(0));
            var reference = RunGraph(Network.NetworkPath, tensor(prepared, [1, 3, 224, 224]));
            Assert.That(ours, Has.Length.EqualTo(512));
            Assert.That(reference, Has.Length.EqualTo(512));
            double scale = reference.Max(Math.Abs);
            Assert.That(scale, Is.GreaterThan(0.1), "a real feature vector");
            worst = Math.Max(worst, ours.Zip(reference).Max(p => Math.Abs(p.First - p.Second)) / scale);
            // layer4 pooled over its 7x7 map is the network's own 7x7 average pool.
            var layer4 = outputs["layer4@gap"].data<float>().ToArray();
            Assert.That(layer4.Zip(reference).Max(p => Math.Abs(p.First - p.Second)) / scale, Is.LessThan(1e-5));
        }
        TestContext.Out.WriteLine($"pool: largest difference from ResNetPreprocess + ResNet18 under ONNX Runtime, relative to the largest value: {worst:E2}");
        Assert.That(worst, Is.LessThan(1e-5));
    }

    [Test]
    public void NamedLayersAndStagesResolveToTheGraphsTensors()
    {
        var model = OnnxModel.Load(Network);
        Assert.That(model.ResolveLayers([]), Is.EqualTo(new[] { "pool" }), "the named layers; no fc or class");
        Assert.That(model.ResolveLayers(["stages"]), Is.EqualTo(new[] { "stem@gap", "layer1@gap", "layer2@gap", "layer3@gap", "layer4@gap", "pool" }));
        Assert.That(model.ResolveLayers(["stages@map"]), Is.EqualTo(new[] { "stem@map", "layer1@map", "layer2@map", "layer3@map", "layer4@map" }));
        Assert.That(model.Spec("layer3@gap").Tensor, Is.EqualTo("ReLU347_Output_0"));
        Assert.That(model.Spec("ReLU315_Output_0@map").Tensor, Is.EqualTo("ReLU315_Output_0"), "raw tensors still work");
        foreach (var layer in new[] { "class", "fc" })
            Assert.That(() => model.ResolveLayers([layer]), Throws.TypeOf<ShiftBenchException>().With.Message.StartsWith("mlnet_resnet18 has no classifier"));
        Assert.That(() => RunRequestLoad("--mean"), Throws.TypeOf<ShiftBenchException>().With.Message.Contains("mlnet_resnet18 feeds its own preprocessing"));
    }

    static OnnxModel? RunRequestLoad(string option) =>
        Runs.RunRequestBuilder.LoadOnnx(PackagedNetworks.MlnetResNet18Name, option == "--mean" ? new OnnxOptions { Mean = [0.5, 0.5, 0.5] } : new OnnxOptions());

    [Test]
    public void RunsThroughTheCliWithNoDownloadAndRefusesClass()
    {
        using var dir = TestPaths.NewTempDir();
        string outDir = Path.Combine(dir, "out");
        var (code, stdout, stderr) = TestCli.Run("run", "--model", PackagedNetworks.MlnetResNet18Name, "--dataset", "plane", "--stride", "66", "--anchors", "c", "--out", outDir);
        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        string runDir = Path.Combine(outDir, "plane", PackagedNetworks.MlnetResNet18Name, OnnxModel.VariantName);
        var run = JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, "run.json")))!;
        Assert.That(run["complete"]!.GetValue<bool>(), Is.True);
        Assert.That(run["layers"]!.AsArray().Select(l => l!.GetValue<string>()), Is.EqualTo(new[] { "pool" }), "class is not a default layer");
        Assert.That(run["onnx"]!["packaged"]!["package"]!.GetValue<string>(), Is.EqualTo("Microsoft.ML.DnnImageFeaturizer.ResNet18 0.24.0"));
        var grid = File.ReadAllLines(Path.Combine(runDir, "cos-pool-c.csv"));
        Assert.That(grid, Has.Length.EqualTo(1 + 9), "header and one row per position of the 3x3 grid");
        Assert.That(File.Exists(Path.Combine(runDir, "cos-pool-c.png")), Is.True);
        Assert.That(Directory.EnumerateFiles(runDir, "*class*"), Is.Empty);

        (code, stdout, stderr) = TestCli.Run("run", "--model", PackagedNetworks.MlnetResNet18Name, "--dataset", "plane", "--layers", "pool,class", "--out", Path.Combine(dir, "class"));
        Assert.That(code, Is.EqualTo(2), stdout + stderr);
        Assert.That(stderr.Trim().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(stderr, Does.StartWith("error: mlnet_resnet18 has no classifier, so no 'class'"));
        Assert.That(Directory.Exists(Path.Combine(dir, "class")), Is.False, "nothing written");
    }

    [Test]
    public void MissingPublishedWeightsOfflinePointToIt()
    {
        using var dir = TestPaths.NewTempDir();
        var (code, stdout, stderr) = TestCli.Run("run", "--model", "resnet50", "--dataset", "plane", "--weights-dir", Path.Combine(dir, "weights"), "--out", Path.Combine(dir, "out"));
        Assert.That(code, Is.EqualTo(2), stdout + stderr);
        Assert.That(stderr.Trim().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(stderr, Does.StartWith("error: offline").And.Contain("resnet50-0676ba61.pth"));
        Assert.That(stderr.TrimEnd(), Does.EndWith(PackagedNetworks.TryItHint));
    }
}
