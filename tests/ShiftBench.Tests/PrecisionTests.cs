using System.Text.Json.Nodes;
using ShiftBench.Analysis;
using ShiftBench.Datasets;
using ShiftBench.Models;
using ShiftBench.Output;
using ShiftBench.Report;
using ShiftBench.Runs;
using ShiftBench.Workflows;
using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Tests;

/// <summary>
/// `--precision`: parsing and refusals, bf16 networks (parameters, buffers, input), run.json and fingerprints,
/// output folders of one precision, bf16 grids within a stated tolerance of fp32, and bench's deviation numbers.
/// </summary>
public class PrecisionTests
{
    /// <summary>
    /// bf16 keeps 8 significant bits, so each rounding is off by at most u = 2^-8 relative. Every layer rounds its
    /// input, weights and output, and the errors of a dot product's terms partly cancel, so a feature row ends up off
    /// by a small multiple of u: the stated bound is 8u = 2^-5 relative (L2) for every row of every layer.
    /// </summary>
    const double FeatureTolerance = 1.0 / 32;
    /// <summary>A cosine of two rows each off by at most ε (relative) moves by at most 2ε (each unit vector moves by ε).</summary>
    const double CosineTolerance = 2 * FeatureTolerance;
    /// <summary>
    /// A softmax probability moves by at most half the largest logit change; with logits off by 2^-5 of their norm that
    /// bound exceeds 1 for 1000 classes, so the class grid is held to the cosines' 2^-4 instead (measured: below 2e-4).
    /// </summary>
    const double ClassTolerance = CosineTolerance;

    static RunRequest Request(string outRoot, string model, string variant, Precision precision, int stride) => new()
    {
        Model = ModelRegistry.Find(model, variant),
        Dataset = DatasetCatalog.Resolve("berry"),
        DataDir = TestPaths.DataDir,
        Weights = WeightsSource.Deterministic(),
        Stride = stride,
        BatchSize = 5,
        OutRoot = outRoot,
        Features = FeatureStorage.Fp32,
        Precision = precision,
    };

    [Test]
    [Category(TestTier.Fast)]
    public void NamesAndListsParseAndBadOnesAreClearErrors()
    {
        Assert.That(Precisions.Parse("fp32"), Is.EqualTo(Precision.Fp32));
        Assert.That(Precisions.Parse(" BF16 "), Is.EqualTo(Precision.Bf16));
        Assert.That(Precisions.Parse("fp16"), Is.EqualTo(Precision.Fp16));
        Assert.That(Precisions.ParseList("fp32,bf16,fp32"), Is.EqualTo(new[] { Precision.Fp32, Precision.Bf16 }));
        Assert.That(Precisions.All.Select(p => p.Name()), Is.EqualTo(new[] { "fp32", "bf16", "fp16" }));

        var bad = Assert.Throws<ShiftBenchException>(() => Precisions.Parse("fp8"))!;
        Assert.That(bad.Message, Is.EqualTo("unknown precision 'fp8' (--precision): use fp32, bf16 or fp16"));
        var empty = Assert.Throws<ShiftBenchException>(() => Precisions.ParseList(" , "))!;
        Assert.That(empty.Message, Does.Contain("--precision is empty"));
        var inList = Assert.Throws<ShiftBenchException>(() => Precisions.ParseList("fp32,half"))!;
        Assert.That(inList.Message, Does.Contain("'half'"));
    }

    [Test]
    [Category(TestTier.Fast)]
    public void Fp16OnTheCpuAndReducedPrecisionForOnnxAreRefused()
    {
        var fp16 = Assert.Throws<ShiftBenchException>(() => Precisions.CheckSupported(Precision.Fp16, CPU, onnx: false))!;
        Assert.That(fp16.Message, Does.Contain("--precision fp16 needs --device cuda"));
        var onnx = Assert.Throws<ShiftBenchException>(() => Precisions.CheckSupported(Precision.Bf16, CPU, onnx: true))!;
        Assert.That(onnx.Message, Does.Contain("not available for ONNX models").And.Contain("--precision fp32"));
        Assert.DoesNotThrow(() => Precisions.CheckSupported(Precision.Bf16, CPU, onnx: false));
        Assert.DoesNotThrow(() => Precisions.CheckSupported(Precision.Fp32, CPU, onnx: true));

        // The run options refuse it before anything is built or written; so do runs built directly (sweep, bench).
        var choices = new RunChoices { Model = "alexnet", Dataset = "berry", Weights = "deterministic", Precision = "fp16", Variant = "torchvision" };
        Assert.That(Assert.Throws<ShiftBenchException>(() => RunRequestBuilder.Build(choices))!.Message, Does.Contain("needs --device cuda"));
        using var dir = TestPaths.NewTempDir();
        var request = Request(Path.Combine(dir, "out"), "alexnet", ModelVariant.Torchvision, Precision.Fp16, 62);
        Assert.That(Assert.Throws<ShiftBenchException>(() => ExperimentRunner.Run(request))!.Message, Does.Contain("needs --device cuda"));
        Assert.That(Directory.Exists(Path.Combine(dir, "out")), Is.False, "nothing written");
    }

    [Test]
    public void TheCliRefusesFp16OnTheCpuAndUnknownPrecisionsWithOneLine()
    {
        foreach (var (value, expected) in new[] { ("fp16", "--precision fp16 needs --device cuda"), ("int8", "unknown precision 'int8' (--precision)") })
        {
            using var dir = TestPaths.NewTempDir();
            var (code, stdout, stderr) = TestCli.Run("run", "--model", "alexnet", "--dataset", "berry", "--variant", "torchvision",
                "--weights", "deterministic", "--stride", "62", "--out", Path.Combine(dir, "out"), "--precision", value);
            Assert.That(code, Is.EqualTo(2), stderr);
            Assert.That(stderr.Trim().Split('\n'), Has.Length.EqualTo(1).And.Some.Contains(expected));
            Assert.That(stdout, Is.Empty);
            Assert.That(Directory.Exists(Path.Combine(dir, "out")), Is.False);
        }
    }

    [Test]
    public void Bf16ConvertsEveryParameterAndBufferAndKeepsTheBlurFiltersExact()
    {
        var entry = ModelRegistry.Find("resnet18", ModelVariant.Antialiased); // batch norm statistics and BlurPool filters
        using var model = ModelLoader.Load(entry, WeightsSource.Deterministic(), CPU, Precision.Bf16);
        var parameters = model.parameters().ToList();
        var buffers = model.named_buffers().Where(b => b.buffer.is_floating_point()).ToList();
        Assert.That(parameters, Is.Not.Empty);
        Assert.That(buffers.Select(b => b.name), Has.Some.EndsWith("running_var").And.Some.EndsWith(BlurPool.FilterBuffer));
        Assert.That(parameters.Select(p => p.dtype).Concat(buffers.Select(b => b.buffer.dtype)), Is.All.EqualTo(ScalarType.BFloat16));
        // Binomial filters are sums of powers of two: bf16 holds them exactly.
        foreach (var (name, module) in model.named_modules())
            if (module is BlurPool blur)
                Assert.DoesNotThrow(() => blur.VerifyFilter(name));

        using var network = new TorchFeatureNetwork(model, entry.Taps, Precision.Bf16);
        using var scope = NewDisposeScope();
        var outputs = network.Forward(randn(2, 3, 64, 64));
        Assert.That(outputs.Values.Select(t => t.dtype), Is.All.EqualTo(ScalarType.Float32), "layer outputs come back as float32");
        Assert.That(outputs.Keys, Is.EquivalentTo(entry.Taps.Select(t => t.Name).Append(ModelEntry.LogitsLayer)));
        foreach (var t in outputs.Values) t.Dispose();
    }

    /// <summary>Both runs take the default `--reuse auto`: the bf16 run reuses as the fp32 run does, in bf16 (AlexNet and ResNet-18 here).</summary>
    [TestCase("alexnet", ModelVariant.Antialiased, 31, true)]
    [TestCase("resnet18", ModelVariant.Antialiased, 62, true)]
    public void Bf16RunsStayWithinTheStatedToleranceOfFp32(string model, string variant, int stride, bool reuses)
    {
        using var dir = TestPaths.NewTempDir();
        var fp32 = ExperimentRunner.Run(Request(Path.Combine(dir, "fp32"), model, variant, Precision.Fp32, stride));
        var bf16 = ExperimentRunner.Run(Request(Path.Combine(dir, "bf16"), model, variant, Precision.Bf16, stride));
        Assert.That(fp32.Complete && bf16.Complete, Is.True);
        Assert.That(bf16.Reuse!.Method, Is.EqualTo(fp32.Reuse!.Method), bf16.Reuse.Fallback);
        Assert.That(bf16.Reuse.Method is not null, Is.EqualTo(reuses), bf16.Reuse.Fallback);

        var a = RunFolder.TryLoad(fp32.RunDirectory)!;
        var b = RunFolder.TryLoad(bf16.RunDirectory)!;
        double worstFeature = 0;
        foreach (var layer in a.Layers.Where(l => l != ModelEntry.ClassLayer))
        {
            var (x, shape) = Npy.ReadFloat32(Path.Combine(a.Dir, RunLayout.FeaturesFile(layer)));
            var (y, _) = Npy.ReadFloat32(Path.Combine(b.Dir, RunLayout.FeaturesFile(layer)));
            for (long row = 0; row < shape[0]; row++)
            {
                double diff = 0, norm = 0;
                for (long k = row * shape[1]; k < (row + 1) * shape[1]; k++) { diff += (x[k] - y[k]) * (double)(x[k] - y[k]); norm += x[k] * (double)x[k]; }
                worstFeature = Math.Max(worstFeature, Math.Sqrt(diff / norm));
            }
        }
        TestContext.Progress.WriteLine($"{model} {variant}: largest relative L2 error of a bf16 feature row {worstFeature:E2}");
        Assert.That(worstFeature, Is.GreaterThan(0), "bf16 must actually compute in bf16");
        Assert.That(worstFeature, Is.LessThanOrEqualTo(FeatureTolerance));

        Assert.That(b.Grids.Select(g => (g.Layer, g.Anchor)), Is.EqualTo(a.Grids.Select(g => (g.Layer, g.Anchor))));
        Assert.That(a.Grids, Has.Some.Matches<GridFile>(g => g.Layer == ModelEntry.ClassLayer));
        foreach (var (ga, gb) in a.Grids.Zip(b.Grids))
        {
            var d = Deviation.Between(a.ReadGrid(ga).Cast<double>().ToList(), b.ReadGrid(gb).Cast<double>().ToList());
            double tolerance = ga.Layer == ModelEntry.ClassLayer ? ClassTolerance : CosineTolerance;
            TestContext.Progress.WriteLine($"{model} {variant} {ga.Layer} {ga.Anchor}: bf16 - fp32 max {d.MaxAbs:E2}, mean {d.MeanAbs:E2} (tolerance {tolerance:E2})");
            Assert.That(d.MaxAbs, Is.LessThanOrEqualTo(tolerance), $"{ga.Layer} {ga.Anchor}: max |bf16 - fp32|");
        }
    }

    [Test]
    public void RunJsonRecordsThePrecisionAndTheFingerprintChangesWithIt()
    {
        using var dir = TestPaths.NewTempDir();
        string fp32Out = Path.Combine(dir, "out"), bf16Out = Path.Combine(dir, "out-bf16");
        var fp32 = ExperimentRunner.Run(Request(fp32Out, "alexnet", ModelVariant.Torchvision, Precision.Fp32, 62));
        var bf16 = ExperimentRunner.Run(Request(bf16Out, "alexnet", ModelVariant.Torchvision, Precision.Bf16, 62));
        var jsonA = RunRecord.Read(fp32.RunDirectory)!;
        var jsonB = RunRecord.Read(bf16.RunDirectory)!;
        Assert.That(jsonA.Precision, Is.EqualTo("fp32"));
        Assert.That(jsonB.Precision, Is.EqualTo("bf16"));
        Assert.That(jsonB.Fingerprint, Is.Not.EqualTo(jsonA.Fingerprint));

        // The same request again is skipped as complete; run.json without the field (older runs) reads as fp32.
        Assert.That(ExperimentRunner.Run(Request(bf16Out, "alexnet", ModelVariant.Torchvision, Precision.Bf16, 62) with { Resume = true }).Skipped, Is.True);
        string path = RunRecord.PathIn(fp32.RunDirectory);
        var old = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        old.Remove("precision");
        old.Remove("schema_version");
        File.WriteAllText(path, old.ToJsonString());
        Assert.That(RunRecord.Read(fp32.RunDirectory)!.PrecisionOrDefault, Is.EqualTo("fp32"));
    }

    [Test]
    public void AnOutputFolderHoldsOnePrecision()
    {
        using var dir = TestPaths.NewTempDir();
        string outRoot = Path.Combine(dir, "out");
        var fp32 = ExperimentRunner.Run(Request(outRoot, "alexnet", ModelVariant.Torchvision, Precision.Fp32, 62));
        string before = File.ReadAllText(Path.Combine(fp32.RunDirectory, RunLayout.RunJson));

        // A bf16 request, for the same folder (resuming) or another variant, is refused before anything is written.
        foreach (var variant in new[] { ModelVariant.Torchvision, ModelVariant.Antialiased })
        {
            var request = Request(outRoot, "alexnet", variant, Precision.Bf16, 62) with { Resume = true };
            var error = Assert.Throws<ShiftBenchException>(() => ExperimentRunner.Run(request))!;
            Assert.That(error.Message, Does.Contain("holds fp32 runs").And.Contain(fp32.RunDirectory).And.Contain($"--out {outRoot}-bf16"));
        }
        Assert.That(File.ReadAllText(Path.Combine(fp32.RunDirectory, RunLayout.RunJson)), Is.EqualTo(before), "the fp32 run is untouched");
        Assert.That(Directory.Exists(Path.Combine(outRoot, "berry", "alexnet", ModelVariant.Antialiased)), Is.False);

        // A sweep cell asking for bf16 does not count the fp32 run as its own.
        File.WriteAllText(Path.Combine(dir, "s.yaml"), $"out: {outRoot}\nmodels: [alexnet]\nvariants: [torchvision]\ndatasets: [berry]\nstrides: [62]\nweights: deterministic\nprecision: BF16\n");
        var spec = SweepSpec.Load(Path.Combine(dir, "s.yaml"));
        Assert.That(spec.Precision, Is.EqualTo("bf16"));
        Assert.That(Sweep.IsComplete(Sweep.Cells(spec).Single()), Is.False);
        spec.Precision = "fp32";
        Assert.That(Sweep.IsComplete(Sweep.Cells(spec).Single()), Is.True);
    }

    [Test]
    public void ShardArgumentsAndSlurmTasksCarryThePrecision()
    {
        var request = Request("out", "alexnet", ModelVariant.Torchvision, Precision.Bf16, 62);
        var args = RunRequestBuilder.ArgumentsOf(request);
        Assert.That(string.Join(' ', args), Does.Contain("--precision bf16"));
        Assert.That(RunRequestBuilder.ArgumentsOf(request with { Precision = Precision.Fp32 }), Does.Not.Contain("--precision"));

        using var dir = TestPaths.NewTempDir();
        string file = Path.Combine(dir, "s.yaml");
        File.WriteAllText(file, $"out: {Path.Combine(dir, "out")}\nmodels: [alexnet]\nvariants: [torchvision]\ndatasets: [berry]\nstrides: [62]\nweights: deterministic\n");
        var spec = SweepSpec.Load(file);
        Assert.That(SlurmSweep.ArrayScript(spec, file, 2, SlurmSweep.Pending(spec, 2), "shiftbench"), Does.Not.Contain("--precision"));
        spec.Precision = "bf16"; // as `sweep --precision bf16` sets it
        Assert.That(SlurmSweep.ArrayScript(spec, file, 2, SlurmSweep.Pending(spec, 2), "shiftbench"), Does.Contain("--shards 2 --precision bf16"));
        Assert.That(SlurmSweep.MergeScript(spec, file, 2, "shiftbench"), Does.Contain("--merge --shards 2 --precision bf16"));

        File.WriteAllText(file, File.ReadAllText(file) + "precision: fp8\n");
        Assert.That(Assert.Throws<ShiftBenchException>(() => SweepSpec.Load(file))!.Message, Does.Contain("unknown precision 'fp8'").And.Contain("precision)"));
    }

    [Test]
    public void MergedBf16ShardsAreABf16Run()
    {
        using var dir = TestPaths.NewTempDir();
        string[] Args(string shard) => ["run", "--model", "alexnet", "--dataset", "berry", "--variant", "torchvision", "--weights", "deterministic",
            "--stride", "62", "--batch-size", "4", "--layers", "fc7,class", "--out", Path.Combine(dir, "out"), "--precision", "bf16", "--shard", shard];
        foreach (var shard in new[] { "0/2", "1/2" })
            Assert.That(TestCli.Run(Args(shard)).Code, Is.EqualTo(0));
        string runDir = Path.Combine(dir, "out", "berry", "alexnet", "torchvision");
        var merged = TestCli.Run("merge", runDir);
        Assert.That(merged.Code, Is.EqualTo(0), merged.Stderr);
        Assert.That(RunRecord.Read(runDir)!.PrecisionOrDefault, Is.EqualTo("bf16"), "the shards' arguments carry --precision into the merge");
    }

    [Test]
    [Category(TestTier.Fast)]
    public void DeviationIsTheLargestAndMeanAbsoluteDifference()
    {
        var d = Deviation.Between([0.0, 1.0, 0.5, -0.25], [0.125, 0.5, 0.5, 0.0]);
        Assert.That(d.MaxAbs, Is.EqualTo(0.5));
        Assert.That(d.MeanAbs, Is.EqualTo((0.125 + 0.5 + 0 + 0.25) / 4));
        Assert.That(d.Count, Is.EqualTo(4));
        Assert.That(Deviation.Between([1.0], [double.NaN]).MaxAbs, Is.NaN, "a NaN is never hidden by max");
        Assert.Throws<ArgumentException>(() => Deviation.Between([1.0, 2.0], [1.0]));
    }

    [Test]
    [Category(TestTier.Fast)]
    public void BenchDeviationPoolsEveryLayerAndComparesClassAndTop1()
    {
        var reference = new PrecisionComparison.Values(
            new Dictionary<string, double[]> { ["fc"] = [1.0, 0.5, 0.25, 0.0], ["pool"] = [1.0, 0.75] }, [0.5, 0.25], [7, 9]);
        var other = new PrecisionComparison.Values(
            new Dictionary<string, double[]> { ["pool"] = [0.9375, 0.75], ["fc"] = [1.0, 0.375, 0.25, 0.25] }, [0.5, 0.375], [7, 8]);
        var d = PrecisionComparison.Compare(reference, other, Precision.Fp32, Precision.Bf16, positions: 2);
        Assert.That(d.Cosine.Count, Is.EqualTo(6));
        Assert.That(d.Cosine.MaxAbs, Is.EqualTo(0.25));
        Assert.That(d.Cosine.MeanAbs, Is.EqualTo((0.125 + 0.25 + 0.0625) / 6), "pairs matched by layer name, not by order");
        Assert.That(d.Class!.MaxAbs, Is.EqualTo(0.125));
        Assert.That(d.Class.MeanAbs, Is.EqualTo(0.0625));
        Assert.That(d.Top1Agreement, Is.EqualTo(0.5));
        Assert.That((d.Precision, d.Reference, d.Positions), Is.EqualTo((Precision.Bf16, Precision.Fp32, 2)));
    }

    [Test]
    public void BenchDeviationOfAPrecisionWithItselfIsZeroAndBf16IsWithinTolerance()
    {
        var entry = ModelRegistry.Find("alexnet", ModelVariant.Torchvision);
        var deviations = PrecisionComparison.Measure(entry, WeightsSource.Deterministic(), DatasetCatalog.Resolve("berry"), TestPaths.DataDir,
            positions: 6, batchSize: 4, CPU, [Precision.Fp32, Precision.Fp32, Precision.Bf16]);
        Assert.That(deviations, Has.Count.EqualTo(2));
        var same = deviations[0];
        Assert.That((same.Cosine.MaxAbs, same.Class!.MaxAbs, same.Top1Agreement), Is.EqualTo((0.0, 0.0, 1.0)));
        // 6 positions x 5 anchors for each of alexnet's cosine layers (pool, fc6, fc6relu, fc7, fc7relu, fc).
        Assert.That(same.Cosine.Count, Is.EqualTo(6 * 5 * (entry.Layers.Count - 1)));
        var bf16 = deviations[1];
        Assert.That(bf16.Cosine.MaxAbs, Is.GreaterThan(0).And.LessThanOrEqualTo(CosineTolerance));
        Assert.That(bf16.Class!.MaxAbs, Is.GreaterThanOrEqualTo(0).And.LessThan(0.5), "a probability difference; the class tolerance is checked on whole runs");
    }

    [Test]
    public void BenchPrintsEachPrecisionTheSpeedUpAndTheGridDeviation()
    {
        var (code, stdout, stderr) = TestCli.Run("bench", "--model", "alexnet", "--precision", "fp32,bf16", "--images", "4", "--batch-size", "4");
        Assert.That(code, Is.EqualTo(0), stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Does.StartWith("model alexnet (torchvision), batch 4, 4 images"));
        Assert.That(lines.Single(l => l.StartsWith("fp32 ")), Does.Contain("1.00x"));
        Assert.That(lines.Single(l => l.StartsWith("bf16 ") && l.Contains("img/s")), Does.Match(@"img/s\s+[0-9.]+ img/s\s+[0-9.]+x\s+[0-9.]+x"));
        Assert.That(lines.Single(l => l.StartsWith("bf16 is ")), Does.Match(
            @"^bf16 is [0-9.]+x fp32 forward \([0-9.]+x end to end\) on this CPU \(.+, \d+ cores; .*\): bf16 (pays here|does not pay here: use fp32)\. "),
            "bench says whether bf16 pays on this CPU");
        Assert.That(stdout, Does.Contain("grids against fp32 on the 4 benched positions of berry"));
        var header = Array.FindIndex(lines, l => l.StartsWith("precision ") && l.Contains("cosine max|d|"));
        Assert.That(header, Is.GreaterThan(0), "the deviation table has its header");
        var row = lines[header + 1].Split(' ', StringSplitOptions.RemoveEmptyEntries); // the deviation row under it
        Assert.That(row[0], Is.EqualTo("bf16"));
        double cosineMax = double.Parse(row[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(cosineMax, Is.GreaterThan(0).And.LessThanOrEqualTo(CosineTolerance));
        // Reuse (--reuse auto, the default) is measured in each precision from the same rounds; tools/speed-table.sh reads these lines.
        foreach (var precision in new[] { "fp32", "bf16" })
        {
            Assert.That(lines.Single(l => l.StartsWith($"reuse {precision} (")), Does.Match(
                @"^reuse \w+ \(berry, stride \d+, 4 images, median of 3 alternating rounds\): brute force [0-9.]+ images/s \([0-9.]+-[0-9.]+\), reuse [0-9.]+ images/s \([0-9.]+-[0-9.]+\), x[0-9.]+; "));
            Assert.That(lines.Single(l => l.StartsWith($"reuse {precision} ") && !l.StartsWith($"reuse {precision} (")), Does.Contain("crop-phase, reused until features."));
        }
        Assert.That(lines.Single(l => l.StartsWith("bf16 with reuse is ")), Does.Match(@"^bf16 with reuse is [0-9.]+x fp32 with reuse \([0-9.]+x brute force against brute force\), the same rounds$"));

        var fp16 = TestCli.Run("bench", "--model", "alexnet", "--precision", "fp16", "--images", "4");
        Assert.That((fp16.Code, fp16.Stderr.Trim()), Is.EqualTo((2, "error: --precision fp16 needs --device cuda (half precision on the CPU is far slower than fp32): use --precision bf16 on the CPU")));
        // Bad input stops before any timing.
        var missing = TestCli.Run("bench", "--model", "alexnet", "--precision", "fp32,bf16", "--weights", "/nonexistent/alexnet.pth");
        Assert.That((missing.Code, missing.Stderr.Trim()), Is.EqualTo((2, "error: --weights /nonexistent/alexnet.pth does not exist: give the torchvision weights file of alexnet")));
        var single = TestCli.Run("bench", "--model", "alexnet", "--weights", "/nonexistent/alexnet.pth");
        Assert.That((single.Code, single.Stderr), Is.EqualTo((2, "error: --weights is for the grid comparison of two or more precisions: add e.g. --precision fp32,bf16 (timings use synthetic weights)\n")));
    }
}
