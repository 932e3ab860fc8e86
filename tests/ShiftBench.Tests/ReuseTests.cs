using ShiftBench.Datasets.Kinds;
using NUnit.Framework;
using ShiftBench.Datasets;
using ShiftBench.Models;
using ShiftBench.Models.Families;
using ShiftBench.Runs;
using ShiftBench.Runs.Reuse;
using static TorchSharp.torch;

namespace ShiftBench.Tests;

/// <summary>
/// Exact reuse (Runs/Reuse) against brute force on the same positions: the whole trunk's map (before global pooling),
/// the logits and the class probabilities, for every zoo family: AlexNet and VGG (plain, batch norm, BlurPool with
/// reflection padding of several filter sizes), ResNet (basic and bottleneck blocks, ResNeXt's groups), MobileNetV2
/// (inverted residuals, depthwise convs) and DenseNet (dense layers, average-pool transitions), torchvision and
/// antialiased, on small crop and patch datasets made from the study's images, strides 1 and 4, reusing every step and
/// the cost model's depth (`--reuse on`). Batches cross rows of the grid and the canvas edges.
/// </summary>
[TestFixture]
public class ReuseTests
{
    // Small geometries keep the networks cheap: 64-pixel crops of the plane at 76 (13x13 positions at stride 1),
    // a 24-pixel berry over a 64-pixel canvas; AlexNet needs 96 pixels to keep a map after its last BlurPool. The residual
    // and dense networks end at 2x2 maps there, so their deepest blocks see both edges of a map at once.
    static DatasetConfig Crop(int size) => DatasetConfig.Parse($"name: small-plane\nkind: crop\ntarget_class: 895\nsource: plane.png\nresize: {size + 12}\ncanvas: {{size: {size}}}\n", "small-plane.yaml");
    static DatasetConfig Patch(int size) => DatasetConfig.Parse($"name: small-berry\nkind: patch\ntarget_class: 949\ncanvas: {{size: {size}, color: [255, 255, 255]}}\npatch: {{source: berry_transparent.png, size: 24}}\n", "small-berry.yaml");

    static IEnumerable<TestCaseData> Cases()
    {
        foreach (var (model, variant) in new[]
        {
            ("alexnet", "torchvision"), ("alexnet", "antialiased-lpf3"), ("vgg16", "torchvision"), ("vgg16_bn", "antialiased-lpf4-finetune"),
            ("vgg11", "antialiased-lpf4-finetune"), ("vgg16", "antialiased-lpf2"),
            ("resnet18", "torchvision"), ("resnet18", "antialiased-lpf3"), ("resnet50", "torchvision"), ("resnet50", "antialiased-lpf4-finetune"),
            ("resnext50_32x4d", "torchvision"), ("mobilenet_v2", "torchvision"), ("mobilenet_v2", "antialiased-lpf3"),
            ("densenet121", "torchvision"), ("densenet121", "antialiased-lpf4-finetune"),
        })
            // A patch on a uniform canvas runs either method (a window of the grown canvas for crop-phase).
            foreach (var (kind, method) in new[] { ("crop", ReuseMethodNames.CropPhase), ("patch", ReuseMethodNames.PatchCanvas), ("patch", ReuseMethodNames.CropPhase) })
                foreach (var stride in new[] { 1, 4 })
                {
                    var data = new TestCaseData(model, variant, kind, method, stride).SetName($"ReuseEqualsBruteForce({model},{variant},{kind},{method},{stride})");
                    yield return FastCases.Contains((model, variant, kind, method, stride)) ? data.SetCategory(TestTier.Fast) : data;
                }
    }

    /// <summary>The fast tier: each family once (torchvision or antialiased), each dataset kind and method, both strides.</summary>
    static readonly HashSet<(string, string, string, string, int)> FastCases =
    [
        ("alexnet", "antialiased-lpf3", "crop", ReuseMethodNames.CropPhase, 4), ("vgg11", "antialiased-lpf4-finetune", "patch", ReuseMethodNames.PatchCanvas, 4),
        ("resnet18", "torchvision", "patch", ReuseMethodNames.CropPhase, 1), ("mobilenet_v2", "antialiased-lpf3", "patch", ReuseMethodNames.PatchCanvas, 4),
        ("densenet121", "torchvision", "crop", ReuseMethodNames.CropPhase, 4),
    ];

    // Built once for the cases of one network (engines are not shared: an engine keeps the bands of earlier batches).
    readonly SharedNetwork<(string Model, string Variant, int Size), TorchFeatureNetwork> shared = new(n => n.Module);

    [OneTimeTearDown]
    public void DisposeNetwork() => shared.Dispose();

    /// <summary>The zoo network with deterministic weights and logits, for the dataset's canvas size.</summary>
    TorchFeatureNetwork Network(ModelEntry entry, DatasetConfig config) =>
        shared.Get((entry.Model, entry.VariantName, config.Canvas.Size), () => (TorchFeatureNetwork)ExperimentRunner.Open(new RunRequest
        {
            Model = entry, Dataset = config, DataDir = TestPaths.DataDir, Weights = WeightsSource.Deterministic(),
        }, [ModelEntry.LogitsLayer]));

    [TestCaseSource(nameof(Cases))]
    public void ReuseEqualsBruteForce(string model, string variant, string kind, string method, int stride)
    {
        int size = model == "alexnet" ? 96 : 64;
        var config = kind == "crop" ? Crop(size) : Patch(size);
        var entry = ModelRegistry.Find(model, variant);
        using var dataset = ShiftDataset.Open(config, TestPaths.DataDir, stride);
        var network = Network(entry, config);
        var net = (IStagedNetwork)network.Module;
        // Every step of the trunk can be windowed, so reusing "every step" reaches the last one.
        var steps = ReuseStep.Of(net);
        Assert.That(steps.Where(s => s.Graph is null).Select(s => s.Name), Is.Empty, "steps that cannot be windowed");

        // Batches of 5 cross rows (13 or 4 columns); the last positions sit at the far edges.
        int n = dataset.Count;
        var starts = new[] { 0, 10, n / 2, n - 5 }.Distinct();
        foreach (int? depth in new int?[] { int.MaxValue, null })
        {
            using var engine = ReuseEngine.Create(ReuseEngine.On, network, dataset, out var record, depth: depth, method: method);
            if (depth is null && engine is null) { Assert.That(record.Fallback, Does.StartWith("cost model")); continue; }
            Assert.That(engine, Is.Not.Null, record.Fallback);
            Assert.That(record.Method, Is.EqualTo(method));
            if (depth == int.MaxValue) Assert.That(record.ReusedUntil, Is.EqualTo(steps[^1].Name));
            foreach (int start in starts)
            {
                using var scope = NewDisposeScope();
                using var mode = inference_mode();
                var brute = net.Trunk(dataset.Batch(start, 5));
                var reused = engine!.FeatureMap(start, 5);
                Assert.That(reused.shape, Is.EqualTo(brute.shape));
                double scale = brute.abs().max().item<float>();
                Assert.That(scale, Is.GreaterThan(0), "the feature map is not all zero");
                double worst = (reused - brute).abs().max().item<float>();
                Assert.That(worst, Is.LessThanOrEqualTo(1e-5 * scale), $"{record.ReusedUntil}, positions {start}..{start + 4}: max |reuse - brute| {worst:G3} of max {scale:G3}");

                var pBrute = net.Head(brute).softmax(1);
                var pReuse = engine.Forward(start, 5).softmax(1);
                double rel = ((pReuse - pBrute).abs() / pBrute).max().item<float>();
                Assert.That(rel, Is.LessThanOrEqualTo(1e-5), $"class probabilities, positions {start}..{start + 4}");
            }
        }
    }

    /// <summary>
    /// Each row's band maps are computed once per reused step and phase of that step, even when a batch holds fewer
    /// positions than there are phases (stride 1, batch 1, VGG16 reused to its first pool: features.1 and features.3
    /// have stride 1, one band each, shared by both phases of features.4, whose phases 0 and 1 alternate along the row).
    /// </summary>
    [Test]
    public void BandsAreComputedOncePerRowAndPhase()
    {
        var config = Crop(64);
        var entry = ModelRegistry.Find("vgg16", "torchvision");
        using var dataset = ShiftDataset.Open(config, TestPaths.DataDir, 1);
        var network = Network(entry, config);
        int firstPool = ReuseStep.Of((IStagedNetwork)network.Module).FindIndex(s => s.Name == "features.4") + 1;
        using var engine = ReuseEngine.Create(ReuseEngine.On, network, dataset, out var record, depth: firstPool, method: ReuseMethodNames.CropPhase)!;
        Assert.That(record.ReusedUntil, Is.EqualTo("features.4"));
        using var mode = inference_mode();
        for (int i = 0; i < dataset.Cols; i++)
            using (NewDisposeScope()) engine.FeatureMap(i, 1);
        Assert.That(dataset.Cols, Is.GreaterThan(2));
        Assert.That(engine.BandsComputed, Is.EqualTo(1 + 1 + 2), "one band per step and phase for the whole row");
    }

    /// <summary>
    /// Whole runs of the study's datasets at 224 (AlexNet and antialiased ResNet-18, `--reuse on`, the cost model's depth):
    /// every cosine grid within 1e-5 absolute and every class probability within 1e-5 relative of --reuse off, the same
    /// fingerprint, run.json recording what was used, and a run started with reuse resumes without it (and the result is
    /// the same). The berry at stride 8 runs crop-phase (the cost model's choice: a row's 16 positions share one band
    /// phase), at stride 31 patch-canvas. ResNet-18 also taps layer3, so reuse must stop before it (the tap needs layer3's own call).
    /// </summary>
    [TestCase("alexnet", "plane", 33, ReuseMethodNames.CropPhase, "pool,fc7,class", "^features\\.")]
    [TestCase("alexnet", "berry", 31, ReuseMethodNames.PatchCanvas, "pool,fc7,class", "^features\\.")]
    [TestCase("alexnet", "berry", 8, ReuseMethodNames.CropPhase, "pool,fc7,class", "^features\\.")]
    [TestCase("resnet18", "plane", 32, ReuseMethodNames.CropPhase, "layer3@gap,pool,class", "^(relu|maxpool|layer1|layer2)")]
    [TestCase("resnet18", "berry", 31, ReuseMethodNames.PatchCanvas, "layer3@gap,pool,class", "^(relu|maxpool|layer1|layer2)")]
    public void RunsWithReuseEqualBruteForceAndResumeAcrossModes(string model, string datasetName, int stride, string method, string layers, string reusedUntil)
    {
        using var dir = TestPaths.NewTempDir();
        RunRequest Request(string mode, string outName) => new()
        {
            Model = ModelRegistry.Find(model, "antialiased"), Dataset = DatasetCatalog.Resolve(datasetName), DataDir = TestPaths.DataDir,
            Weights = WeightsSource.Deterministic(), Stride = stride, BatchSize = 4, OutRoot = Path.Combine(dir, outName), Reuse = mode,
            Layers = layers.Split(','), Resume = true,
        };
        var brute = ExperimentRunner.Run(Request(ReuseEngine.OffMode, "off"));
        var reused = ExperimentRunner.Run(Request(ReuseEngine.On, "auto"));
        var partial = ExperimentRunner.Run(Request(ReuseEngine.On, "mixed") with { MaxPositions = 10 });
        Assert.That(partial.Complete, Is.False);
        var resumed = ExperimentRunner.Run(Request(ReuseEngine.OffMode, "mixed"));
        Assert.That(resumed.PositionsComputed, Is.EqualTo(resumed.Positions - 10), "the batches computed with reuse were kept");

        var offJson = Output.RunRecord.Read(brute.RunDirectory)!;
        var autoJson = Output.RunRecord.Read(reused.RunDirectory)!;
        Assert.That(autoJson.Fingerprint, Is.EqualTo(offJson.Fingerprint));
        Assert.That(autoJson.Reuse!.Method, Is.EqualTo(method));
        Assert.That(autoJson.Reuse.ReusedUntil, Does.Match(reusedUntil));
        Assert.That(offJson.Reuse!.Fallback, Does.Contain("off"));

        foreach (var run in new[] { reused.RunDirectory, resumed.RunDirectory })
        {
            var csvs = Directory.GetFiles(brute.RunDirectory, "*.csv").Where(f => !f.EndsWith("summary.csv")).ToList();
            Assert.That(csvs.Count(f => Path.GetFileName(f).StartsWith("cos-")), Is.EqualTo(10));
            foreach (var file in csvs)
            {
                var (expected, _) = Output.GridCsv.Read(file);
                var (actual, _) = Output.GridCsv.Read(Path.Combine(run, Path.GetFileName(file)));
                bool isClass = Path.GetFileName(file) == "class.csv";
                double worst = 0;
                foreach (var (e, a) in expected.Cast<double>().Zip(actual.Cast<double>()))
                    worst = Math.Max(worst, isClass ? Math.Abs(a - e) / e : Math.Abs(a - e));
                Assert.That(worst, Is.LessThanOrEqualTo(1e-5), $"{Path.GetFileName(file)} in {run}");
                Assert.That(expected.Cast<double>().Distinct().Count(), Is.GreaterThan(2), "the grid varies");
            }
        }
    }

    /// <summary>
    /// The cost model's choice for the study's networks at 224, stride 1 (docs/reuse.md's table): prints depth and share skipped.
    /// Explicit: a tool for docs/reuse.md, run with --filter "FullyQualifiedName~CostModelTable".
    /// </summary>
    [Test, Explicit("prints docs/reuse.md's cost-model table")]
    public void CostModelTable()
    {
        foreach (var datasetName in new[] { "plane", "berry" })
        {
            var config = DatasetCatalog.Resolve(datasetName);
            using var shifts = ShiftDataset.Open(config, TestPaths.DataDir, 1);
            foreach (var model in new[] { "alexnet", "vgg16", "resnet50", "mobilenet_v2", "densenet121" })
                foreach (var variant in new[] { "torchvision", "antialiased" })
                {
                    var entry = ModelRegistry.Find(model, variant);
                    using var network = ExperimentRunner.Open(entry, null, WeightsSource.Deterministic(), CPU, [ModelEntry.LogitsLayer], 224, Precision.Fp32);
                    using var engine = ReuseEngine.Create(ReuseEngine.On, network, shifts, out var record);
                    TestContext.Out.WriteLine(FormattableString.Invariant(
                        $"{datasetName} {model} {entry.VariantName}: {record.Method} until {record.ReusedUntil}, {record.SkippedShare * 100:F1}% skipped{(record.Fallback is null ? "" : $" ({record.Fallback})")}"));
                    Assert.That(record.Method, Is.Not.Null, $"{model} {entry.VariantName} on {datasetName}: {record.Fallback}");
                }
        }
    }

    /// <summary>
    /// `auto` follows ReusePolicy's measured table: DenseNet runs brute force; MobileNetV2, VGG and AlexNet reuse with the
    /// cheaper method (crop-phase at stride 1, also on berry); `on` reuses wherever it applies and the cost model picks
    /// the method. Every zoo family is in the table.
    /// </summary>
    [TestCase("densenet121", "torchvision", "berry", ReuseEngine.Auto, null)]
    [TestCase("densenet121", "antialiased", "plane", ReuseEngine.Auto, null)]
    [TestCase("densenet121", "torchvision", "plane", ReuseEngine.On, ReuseMethodNames.CropPhase)]
    [TestCase("mobilenet_v2", "torchvision", "plane", ReuseEngine.Auto, ReuseMethodNames.CropPhase)]
    [TestCase("mobilenet_v2", "torchvision", "berry", ReuseEngine.Auto, ReuseMethodNames.CropPhase)]
    [TestCase("mobilenet_v2", "antialiased", "berry", ReuseEngine.Auto, ReuseMethodNames.CropPhase)]
    [TestCase("vgg16", "torchvision", "berry", ReuseEngine.Auto, ReuseMethodNames.CropPhase)]
    [TestCase("alexnet", "torchvision", "plane", ReuseEngine.Auto, ReuseMethodNames.CropPhase)]
    public void AutoFollowsTheMeasuredTableOnReusesWhereItApplies(string model, string variant, string datasetName, string mode, string? method)
    {
        var entry = ModelRegistry.Find(model, variant);
        // Stride 1, as the study: a row's band maps are shared by all its positions (at wide strides crop-phase costs more).
        using var shifts = ShiftDataset.Open(DatasetCatalog.Resolve(datasetName), TestPaths.DataDir, 1);
        using var network = ExperimentRunner.Open(entry, null, WeightsSource.Deterministic(), CPU, [ModelEntry.LogitsLayer], 224, Precision.Fp32);
        using var engine = ReuseEngine.Create(mode, network, shifts, out var record, entry);
        Assert.That(engine is null, Is.EqualTo(record.Method is null), "an engine exactly when a method is recorded");
        Assert.That(record.Method, Is.EqualTo(method), record.Fallback);
        Assert.That(ReusePolicy.AutoMethods(entry), Is.Not.Null, "the table covers the family");
        if (method is null) Assert.That(record.Fallback, Does.Contain("measured no faster").And.Contain("--reuse on"));
        else Assert.That(record.SkippedShare, Is.GreaterThan(0));
    }

    [Test, Category(TestTier.Fast)]
    public void TheMeasuredTableCoversEveryZooFamily() =>
        Assert.That(ReusePolicy.Families, Is.EquivalentTo(ModelRegistry.Architectures.Select(a => a.Spec.Family).Distinct()));

    /// <summary>
    /// Reuse computes in the network's precision: a bf16 network's reused trunk (every step, each method) stays within bf16's
    /// rounding of its bf16 brute-force trunk (8u = 2^-5 relative L2 per position, the bound PrecisionTests states for bf16
    /// against fp32), and both stay within it of fp32. A reuse that cut one column wrong is off by far more (the fp32 cases
    /// above hold it to 1e-5); a bf16 network fed float32 windows fails outright.
    /// </summary>
    [TestCase("resnet18", "torchvision", "crop", ReuseMethodNames.CropPhase, Category = TestTier.Fast)]
    [TestCase("mobilenet_v2", "antialiased-lpf3", "patch", ReuseMethodNames.PatchCanvas)]
    [TestCase("vgg11", "antialiased-lpf4-finetune", "patch", ReuseMethodNames.CropPhase)]
    public void Bf16ReuseStaysWithinBf16RoundingOfBruteForce(string model, string variant, string kind, string method)
    {
        const double tolerance = 1.0 / 32;
        var config = kind == "crop" ? Crop(64) : Patch(64);
        var entry = ModelRegistry.Find(model, variant);
        using var dataset = ShiftDataset.Open(config, TestPaths.DataDir, 4);
        var fp32 = Network(entry, config);
        using var bf16 = (TorchFeatureNetwork)ExperimentRunner.Open(new RunRequest
        {
            Model = entry, Dataset = config, DataDir = TestPaths.DataDir, Weights = WeightsSource.Deterministic(), Precision = Precision.Bf16,
        }, [ModelEntry.LogitsLayer]);
        var net = (IStagedNetwork)bf16.Module;
        using var engine = ReuseEngine.Create(ReuseEngine.On, bf16, dataset, out var record, depth: int.MaxValue, method: method);
        Assert.That(engine, Is.Not.Null, record.Fallback);
        Assert.That(record.ReusedUntil, Is.EqualTo(ReuseStep.Of(net)[^1].Name));
        double worstReuse = 0, worstBrute = 0;
        for (int start = 0; start < dataset.Count; start += 5)
        {
            int count = Math.Min(5, dataset.Count - start);
            using var scope = NewDisposeScope();
            using var mode = inference_mode();
            var exact = ((IStagedNetwork)fp32.Module).Trunk(dataset.Batch(start, count)).flatten(1);
            var brute = net.Trunk(dataset.Batch(start, count).to(ScalarType.BFloat16));
            var reused = engine!.FeatureMap(start, count);
            Assert.That(reused.dtype, Is.EqualTo(ScalarType.BFloat16), "reuse computes in the network's precision");
            Assert.That(reused.shape, Is.EqualTo(brute.shape));
            // The largest relative L2 error of a position's map.
            static double Worst(Tensor a, Tensor b) =>
                ((a.to(ScalarType.Float32).flatten(1) - b).square().sum(1).sqrt() / b.square().sum(1).sqrt()).max().item<float>();
            var bruteFlat = brute.to(ScalarType.Float32).flatten(1);
            worstReuse = Math.Max(worstReuse, Worst(reused, bruteFlat));
            worstBrute = Math.Max(worstBrute, Worst(brute, exact));
            Assert.That(Worst(reused, exact), Is.LessThanOrEqualTo(tolerance), $"positions {start}..{start + count - 1}: bf16 reuse against fp32");
        }
        TestContext.Progress.WriteLine($"{model} {variant} {kind} {method}: bf16 reuse against bf16 brute force {worstReuse:E2}, bf16 brute force against fp32 {worstBrute:E2} (relative L2)");
        Assert.That(worstReuse, Is.LessThanOrEqualTo(tolerance), "bf16 reuse against bf16 brute force");
        Assert.That(worstBrute, Is.GreaterThan(0).And.LessThanOrEqualTo(tolerance), "bf16 brute force must compute in bf16");
    }
}
