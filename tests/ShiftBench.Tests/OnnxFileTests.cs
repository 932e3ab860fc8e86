using System.Text.Json.Nodes;
using ShiftBench.Datasets;
using ShiftBench.Models;
using ShiftBench.Models.Onnx;
using ShiftBench.Output;
using ShiftBench.Runs;
using static TorchSharp.torch;

namespace ShiftBench.Tests;

/// <summary>
/// The ONNX path on the small committed files of tools/fixtures/make_onnx_fixtures.py: layer specs, default
/// layers, run folders, the YAML beside a model, `models --layers`, and every kind of bad file (one line, exit 2,
/// nothing written).
/// </summary>
[Category(TestTier.Fast)]
public class OnnxFileTests
{
    static string Tiny => TestPaths.Fixture("onnx", "tiny.onnx");

    static (int Code, string Stdout, string Stderr) Run(string outDir, params string[] args) =>
        TestCli.Run(["run", "--dataset", "berry", "--stride", "31", "--out", outDir, .. args]);

    [TestCase("map", "map", null)]
    [TestCase("layer3@gap", "layer3", LayerReduction.Gap)]
    [TestCase("/features/features.3/Add_output_0@flat", "/features/features.3/Add_output_0", LayerReduction.Flat)]
    public void LayerSpecsParse(string text, string tensor, LayerReduction? reduction)
    {
        var spec = LayerSpec.Parse(text);
        Assert.That((spec.Text, spec.Tensor, spec.Reduction), Is.EqualTo((text, tensor, reduction)));
        Assert.That(spec.FileName, Does.Not.Contain("/"));
        Assert.That(LayerSpec.Parse("layer3@gap").FileName, Is.EqualTo("layer3@gap"), "file names keep the spec as written");
    }

    [Test]
    public void ReductionsPoolOrFlatten()
    {
        using var map = arange(2 * 3 * 2 * 2, ScalarType.Float32).reshape(2, 3, 2, 2);
        using var gap = LayerSpec.Parse("m").Reduce(map);
        Assert.That(gap.shape, Is.EqualTo(new long[] { 2, 3 }), "4-D maps are pooled by default");
        Assert.That(gap[1, 2].item<float>(), Is.EqualTo((20f + 21 + 22 + 23) / 4));
        using var flat = LayerSpec.Parse("m@flat").Reduce(map);
        Assert.That(flat.shape, Is.EqualTo(new long[] { 2, 12 }));
        Assert.That(flat[1, 11].item<float>(), Is.EqualTo(23f));
        using var tokens = zeros(2, 5, 4);
        Assert.That(LayerSpec.Parse("t").Reduce(tokens).shape, Is.EqualTo(new long[] { 2, 20 }), "other ranks are flattened");
        var e = Assert.Throws<ShiftBenchException>(() => LayerSpec.Parse("t@gap").Reduce(tokens));
        Assert.That(e!.Message, Does.Contain("t@flat"));
        Assert.Throws<ShiftBenchException>(() => LayerSpec.Parse("m@mean"));
    }

    [Test]
    public void DefaultLayersAreTheOtherGraphOutputsThenFcAndClass()
    {
        using var dir = TestPaths.NewTempDir();
        var (code, stdout, stderr) = Run(dir, "--model", Tiny, "--features", "fp32");
        Assert.That(code, Is.EqualTo(0), stderr);
        string run = Path.Combine(dir, "berry", "tiny", "onnx");
        Assert.That(stdout, Does.Contain(run));
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "run.json")))!;
        Assert.That(json["layers"]!.AsArray().Select(l => l!.GetValue<string>()), Is.EqualTo(new[] { "map", "fc", "class" }));
        Assert.That(Npy.ReadFloat32(Path.Combine(run, "features-map.npy")).Shape, Is.EqualTo(new long[] { 25, 16 }), "map [N,16,28,28] pooled");
        Assert.That(File.Exists(Path.Combine(run, "cos-map-tl.csv")) && File.Exists(Path.Combine(run, "class.csv")), Is.True);
        Assert.That(File.Exists(Path.Combine(run, "summary.json")), Is.True);
        Assert.That(json["onnx"]!["input"]!["fixed_batch"], Is.Null);
        Assert.That(json["batch_size"]!.GetValue<int>(), Is.EqualTo(OnnxModel.DefaultBatchSize));
    }

    [Test]
    public void NameAndLayerSpecsNameTheFiles()
    {
        using var dir = TestPaths.NewTempDir();
        var (code, _, stderr) = Run(dir, "--model", Tiny, "--name", "mine", "--layers", "map@flat,/conv1/Conv_output_0@gap,class", "--anchors", "tl", "--features", "fp32");
        Assert.That(code, Is.EqualTo(0), stderr);
        string run = Path.Combine(dir, "berry", "mine", "onnx");
        Assert.That(File.Exists(Path.Combine(run, "cos-map@flat-tl.csv")), Is.True);
        Assert.That(Npy.ReadFloat32(Path.Combine(run, "features-map@flat.npy")).Shape, Is.EqualTo(new long[] { 25, 16 * 28 * 28 }));
        Assert.That(Npy.ReadFloat32(Path.Combine(run, "features-_conv1_Conv_output_0@gap.npy")).Shape, Is.EqualTo(new long[] { 25, 8 }));
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "run.json")))!;
        Assert.That(json["model"]!.GetValue<string>(), Is.EqualTo("mine"));
        Assert.That(json["onnx"]!["layers"]!["_conv1_Conv_output_0@gap"]!["tensor"]!.GetValue<string>(), Is.EqualTo("/conv1/Conv_output_0"));
    }

    /// <summary>PATH.onnx.yaml sets mean, std and channel order; the network then sees exactly that input.</summary>
    [Test]
    public void YamlBesideTheModelSetsNormalisationAndChannelOrder()
    {
        using var dir = TestPaths.NewTempDir();
        string model = Path.Combine(dir, "net.onnx");
        File.Copy(Tiny, model);
        File.WriteAllText(model + ".yaml", "mean: [0.5, 0.25, 0.125]\nstd: [0.5, 0.5, 0.25]\nchannels: bgr\n");
        var bgr = OnnxModel.Load(model);
        Assert.That((bgr.Mean, bgr.Std, bgr.Bgr), Is.EqualTo((new[] { 0.5, 0.25, 0.125 }, new[] { 0.5, 0.5, 0.25 }, true)));
        var overridden = OnnxModel.Load(model, new OnnxOptions { Channels = "rgb", Mean = [0.1, 0.2, 0.3] });
        Assert.That((overridden.Bgr, overridden.Mean[0], overridden.Std[2]), Is.EqualTo((false, 0.1, 0.25)), "options override the YAML field by field");

        var config = DatasetCatalog.Resolve("berry");
        using var dataset = ShiftDataset.Open(config, TestPaths.DataDir, 31, mean: bgr.Mean, std: bgr.Std);
        using var batch = dataset.Batch(3, 2);
        using var image = dataset.Render8Bit(0, 93);
        using var expected = (image / 255f - tensor(new[] { 0.5f, 0.25f, 0.125f }).view(3, 1, 1)) / tensor(new[] { 0.5f, 0.5f, 0.25f }).view(3, 1, 1);
        Assert.That(batch[0].allclose(expected, rtol: 0, atol: 1e-6), Is.True, "the dataset normalises with the model's mean and std");

        using var rgbNet = new OnnxFeatureNetwork(OnnxModel.Load(Tiny), ["map"], CPU);
        using var bgrNet = new OnnxFeatureNetwork(bgr, ["map"], CPU);
        var fromBgr = bgrNet.Forward(batch);
        var fromFlipped = rgbNet.Forward(batch.flip(1));
        Assert.That(fromBgr["fc"].allclose(fromFlipped["fc"], 0, 0), Is.True, "a BGR model gets the channels reversed");
        Assert.That(fromBgr["map"].allclose(fromFlipped["map"], 0, 0), Is.True);
        Assert.That(rgbNet.Forward(batch)["fc"].allclose(fromBgr["fc"], 1e-3, 1e-6), Is.False, "the channel order matters for this input");
    }

    [Test]
    public void ModelsLayersListsInputsOutputsAndIntermediates()
    {
        var (code, stdout, stderr) = TestCli.Run("models", "--layers", Tiny);
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Match(@"input\s+float32\s+\[batch,3,height,width\]\s+image"));
        Assert.That(stdout, Does.Match(@"output\s+float32\s+\[batch,1000\]\s+logits"));
        Assert.That(stdout, Does.Match(@"output\s+float32\s+\[batch,16,\w+,\w+\]\s+map"));
        Assert.That(stdout, Does.Match(@"intermediate\s+.*/conv1/Conv_output_0"));
        Assert.That(stdout, Does.Contain("opset 13"));
        var (_, brief, _) = TestCli.Run("models", "--model", Tiny);
        Assert.That(brief, Does.Not.Contain("intermediate"), "--model shows the input and outputs only");
    }

    [TestCase("text", "not a readable ONNX model")]
    [TestCase("truncated", "not a readable ONNX model")]
    [TestCase("nhwc.onnx", "channels last (NHWC)")]
    [TestCase("uint8.onnx", "is uint8 [1,3,224,224]")]
    [TestCase("two_inputs.onnx", "has 2 inputs")]
    [TestCase("unknown_op.onnx", "No Op registered for ShiftBenchNoSuchOp")]
    public void BadFilesFailInOneLineWritingNothing(string file, string message)
    {
        using var dir = TestPaths.NewTempDir();
        string model = file switch
        {
            "text" => Path.Combine(dir, "notes.onnx"),
            "truncated" => Path.Combine(dir, "cut.onnx"),
            _ => TestPaths.Fixture("onnx", file),
        };
        if (file == "text") File.WriteAllText(model, "this is a text file, not a network\n");
        if (file == "truncated") File.WriteAllBytes(model, File.ReadAllBytes(Tiny)[..30000]);
        string outDir = Path.Combine(dir, "out");
        var (code, _, stderr) = Run(outDir, "--model", model);
        Assert.That(code, Is.EqualTo(2), stderr);
        Assert.That(stderr.Trim().Split('\n'), Has.Length.EqualTo(1), stderr);
        Assert.That(stderr, Does.StartWith("error: ").And.Contain(message).And.Contain(Path.GetFileName(model)));
        Assert.That(Directory.Exists(outDir), Is.False, "nothing written");
    }

    [TestCase("mapp", "has no tensor 'mapp' (--layers); nearest: 'map'")]
    [TestCase("/conv1/Conv_outpt_0@gap", "nearest: '/conv1/Conv_output_0'")]
    [TestCase("logits@gap", "@gap pools a 4-D [N,C,H,W] map but 'logits' has shape [batch,1000]; use logits@flat")]
    [TestCase("map@mean", "unknown reduction '@mean'")]
    public void BadLayersListTheNearestNames(string layer, string message)
    {
        using var dir = TestPaths.NewTempDir();
        var (code, _, stderr) = Run(Path.Combine(dir, "out"), "--model", Tiny, "--layers", layer);
        Assert.That(code, Is.EqualTo(2), stderr);
        Assert.That(stderr, Does.StartWith("error: ").And.Contain(message));
        Assert.That(Directory.Exists(Path.Combine(dir, "out")), Is.False);
    }

    [Test]
    public void OptionsThatDoNotFitAreRefused()
    {
        using var dir = TestPaths.NewTempDir();
        string outDir = Path.Combine(dir, "out");
        Assert.That(Run(outDir, "--model", Tiny, "--input-size", "160").Stderr, Does.Contain("takes 160x160 images but dataset 'berry' renders 224x224"));
        Assert.That(Run(outDir, "--model", TestPaths.Fixture("onnx", "uint8.onnx"), "--input-size", "160").Stderr, Does.Contain("is uint8"));
        Assert.That(Run(outDir, "--model", TestPaths.Fixture("onnx", "unknown_op.onnx"), "--input-size", "160").Stderr,
            Does.Contain("input 'image' is [1,3,224,224] but the input size is 160 (--input-size or"), "a fixed input size is checked");
        Assert.That(Run(outDir, "--model", Tiny, "--weights", "deterministic").Stderr, Does.Contain("weights are inside the file"));
        Assert.That(Run(outDir, "--model", "alexnet", "--logits", "x").Stderr, Does.Contain("--logits applies to ONNX models only"));
        Assert.That(Run(outDir, "--model", Tiny, "--logits", "logit").Stderr, Does.Contain("has no tensor 'logit' (--logits); nearest: 'logits'"));
        Assert.That(Run(outDir, "--model", Tiny, "--mean", "0.5,0.5").Stderr, Does.Contain("mean has 2 values"));
        Assert.That(Directory.Exists(outDir), Is.False);
    }

    [Test]
    public void LogitsOptionPicksAnotherOutput()
    {
        using var dir = TestPaths.NewTempDir();
        var (code, _, stderr) = Run(dir, "--model", Tiny, "--logits", "map", "--layers", "fc", "--anchors", "tl", "--features", "fp32");
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(Npy.ReadFloat32(Path.Combine(dir, "berry", "tiny", "onnx", "features-fc.npy")).Shape, Is.EqualTo(new long[] { 25, 16 * 28 * 28 }));
    }
}
