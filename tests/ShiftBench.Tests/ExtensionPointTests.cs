using System.Text.Json;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using ShiftBench.Analysis;
using ShiftBench.Datasets;
using ShiftBench.Datasets.Kinds;
using ShiftBench.Output;
using ShiftBench.Report;
using ShiftBench.Runs;
using ShiftBench.Workflows;

namespace ShiftBench.Tests;

/// <summary>
/// The extension points: every registered dataset kind and metric works wherever kinds and metrics are read, and a
/// kind or metric registered from here (one class or descriptor plus a registration line) is picked up by the config
/// check, the sweep tables, compare and the report without edits elsewhere.
/// </summary>
[Category(TestTier.Fast), NonParallelizable]
public class ExtensionPointTests
{
    /// <summary>Configs for kinds that have no built-in config in configs/.</summary>
    static readonly Dictionary<string, string> TestConfigs = new()
    {
        [PatchFolderKind.KindName] = "name: discs\nkind: patches\ntarget_class: 949\ncanvas: {size: 224}\npatches: {folder: discs, size: 60}\nstride: 16\n",
    };

    /// <summary>A built-in config of the kind, else its test config; a registered kind with neither fails here.</summary>
    static DatasetConfig ConfigOf(DatasetKind kind) =>
        DatasetCatalog.BuiltInNames().Select(DatasetCatalog.Resolve).FirstOrDefault(c => c.Kind == kind.Name)
        ?? (TestConfigs.TryGetValue(kind.Name, out var yaml) ? DatasetConfig.Parse(yaml, $"test config of kind {kind.Name}")
            : throw new AssertionException($"kind '{kind.Name}' has neither a config in configs/ nor one in ExtensionPointTests.TestConfigs"));

    [Test]
    public void EveryRegisteredKindHasAConfigThatValidatesAndHasGeometry()
    {
        Assert.That(DatasetKinds.Names, Is.EqualTo(new[] { "patch", "crop", "patches", "roll", "subpixel" }), "the built-in kinds, in the order messages list them");
        foreach (var kind in DatasetKinds.All)
        {
            var config = ConfigOf(kind);
            Assert.That(config.KindType, Is.SameAs(kind));
            Assert.That(config.Room, Is.GreaterThan(0), kind.Name);
            Assert.That(config.Offsets(config.Stride)[^1], Is.LessThanOrEqualTo(config.Room), kind.Name);
            Assert.That(config.OffsetUnitPx, Is.GreaterThan(0).And.LessThanOrEqualTo(1), kind.Name);
            Assert.That(kind.ContentDirection, Is.EqualTo(1).Or.EqualTo(-1), kind.Name);
            Assert.That(kind.Geometry(config), Does.Contain(config.Canvas.Size.ToString(CultureInfo.InvariantCulture)), kind.Name);
            if (kind.Draw is null)
                Assert.That(kind.NoImageCaption.Count == 2 && kind.NoImageCaption.All(l => l.Length > 0), kind.Name + ": the page's two caption lines in place of an image");
        }
        // What each kind says about itself, as the code before the kinds were types said it.
        Assert.That(DatasetKinds.All.Where(k => k.IsCircular).Select(k => k.Name), Is.EqualTo(new[] { "roll", "subpixel" }));
        Assert.That(DatasetKinds.All.Where(k => k.ContentDirection < 0).Select(k => k.Name), Is.EqualTo(new[] { "crop" }));
        Assert.That(DatasetKinds.All.Where(k => k.ExactReuse).Select(k => k.Name), Is.EqualTo(new[] { "patch", "crop" }));
        Assert.That(DatasetKinds.All.Where(k => k.Draw is not null).Select(k => k.Name), Is.EqualTo(new[] { "patch", "crop" }));
    }

    [Test]
    public void TheReportBuildsForARunOfEveryRegisteredKind()
    {
        using var dir = TestPaths.NewTempDir();
        string outDir = Path.Combine(dir, "out");
        foreach (var kind in DatasetKinds.All) WriteRunOfKind(outDir, "kind-" + kind.Name, ConfigOf(kind));
        var data = BuildReport(outDir);
        foreach (var kind in DatasetKinds.All)
        {
            var ds = data["datasets"]!["kind-" + kind.Name]!;
            Assert.That(ds["kind"]!.GetValue<string>(), Is.EqualTo(kind.Name));
            if (kind.Draw is { } draw)
            {
                Assert.That(ds["draw"]!.GetValue<string>(), Is.EqualTo(draw.ToString().ToLowerInvariant()), kind.Name);
                Assert.That(ds["source"]!["width"]!.GetValue<int>(), Is.GreaterThan(0), kind.Name);
                Assert.That(ds["noImage"], Is.Null, kind.Name);
            }
            else
            {
                Assert.That(ds["noImage"]!.GetValue<bool>(), Is.True, kind.Name);
                Assert.That(ds["caption"]!.AsArray().Select(l => l!.GetValue<string>()), Is.EqualTo(kind.NoImageCaption), kind.Name);
            }
        }
    }

    [Test]
    public void EveryRegisteredMetricIsASweepColumnOrASummaryOnlyMetricAndTheReportLabelsComeFromTheRegistry()
    {
        // The sweep's columns and the page's table as they were before metrics were descriptors: the outputs stay the same.
        Assert.That(Metrics.SweepColumns, Is.EqualTo(new[] { "global", "local", "c.mean", "c.min", "period_x", "period_y", "period_x_px", "period_y_px", "mean", "accuracy", "consistency", "local_consistency", "flip_rate", "top5_jaggedness", "mac", "worst_case_correct", "equivariance" }));
        Assert.That(ReportBuilder.TableMetrics, Is.EqualTo(new[] { "accuracy", "consistency", "local_consistency", "flip_rate", "top5_jaggedness", "mac", "worst_case_correct", "period_y_px", "period_x_px" }));
        Assert.That(Metrics.All.Select(m => m.Name), Is.Unique);
        Assert.That(Metrics.All.Where(m => m.ReportRow is not null).Select(m => m.ReportRow), Is.Unique);

        using var dir = TestPaths.NewTempDir();
        var (outDir, _) = SweepOneRun(dir);
        var header = File.ReadLines(Path.Combine(outDir, SweepFiles.SummaryCsv)).First().Split(',');
        foreach (var metric in Metrics.All.Where(m => m.InSweep))
            Assert.That(header, Does.Contain(metric.Name), metric.Name);
        // Every metric summary.json holds is registered: a metric computed but not described would miss its column and label.
        var summary = SummaryRecord.Read(Path.Combine(outDir, "berry", "alexnet", "torchvision"))!;
        foreach (var (layer, metric, _) in RunSummary.Rows(summary).Where(r => !r.Metric.Contains('.')))
            Assert.That(Metrics.Find(metric), Is.Not.Null, $"{layer}.{metric} of summary.json has no descriptor in Metrics");

        var table = BuildReport(outDir)["metricTable"]!.AsArray();
        Assert.That(table.Select(r => r!["key"]!.GetValue<string>()), Is.EqualTo(ReportBuilder.TableMetrics));
        foreach (var row in table)
        {
            var metric = Metrics.Find(row!["key"]!.GetValue<string>())!;
            Assert.That(row["label"]!.GetValue<string>(), Is.EqualTo(metric.Label));
            Assert.That(row["format"]!.GetValue<string>(), Is.EqualTo(metric.Format == MetricFormat.YesNo ? "yesno" : "number"));
        }
    }

    /// <summary>A metric of this assembly: its descriptor and one Register call are all it takes.</summary>
    static readonly MetricDescriptor ErrorRate = new("test_error_rate", "test: error rate (target not top-1)", MetricLayers.Class)
    {
        ReportRow = 100,
        Derive = m => 1 - m.Entry["accuracy"],
    };

    [Test]
    public void AMetricRegisteredHereReachesSummarySweepCompareAndReport()
    {
        Metrics.Register(ErrorRate);
        try
        {
            using var dir = TestPaths.NewTempDir();
            var (outDir, runDir) = SweepOneRun(dir);
            var classEntry = JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, RunLayout.SummaryJson)))!["layers"]!["class"]!;
            double expected = 1 - classEntry["accuracy"]!.GetValue<double>();
            Assert.That(expected, Is.InRange(0.1, 0.9), "a third of the random top-1 classes are the target");
            Assert.That(classEntry[ErrorRate.Name]!.GetValue<double>(), Is.EqualTo(expected), "summary.json");

            var lines = File.ReadAllLines(Path.Combine(outDir, SweepFiles.SummaryCsv));
            var header = lines[0].Split(',');
            Assert.That(header[^2], Is.EqualTo(ErrorRate.Name), "the new column comes after the built-in ones, before error");
            var classRow = lines.Select(l => l.Split(',')).Single(cells => cells[5] == "class");
            Assert.That(double.Parse(classRow[^2], CultureInfo.InvariantCulture), Is.EqualTo(expected).Within(1e-5 * expected), "sweep-summary.csv");
            Assert.That(lines.Select(l => l.Split(',')).Single(cells => cells[5] == "pool")[^2], Is.Empty, "a class metric: no value for a feature layer");

            var compared = Comparison.Compare(outDir, "alexnet", "berry").Single(r => r.Layer == "class" && r.Metric == ErrorRate.Name);
            Assert.That(compared.Torchvision, Is.EqualTo(expected), "compare");

            var data = BuildReport(outDir);
            var row = data["metricTable"]!.AsArray().Last()!;
            Assert.That((row["key"]!.GetValue<string>(), row["label"]!.GetValue<string>()), Is.EqualTo((ErrorRate.Name, ErrorRate.Label)), "the page's table");
            Assert.That(data["runs"]![0]!["metrics"]![ErrorRate.Name]!.GetValue<double>(), Is.EqualTo(expected), "the page's value");
        }
        finally { Metrics.Unregister(ErrorRate); }
        Assert.That(Metrics.SweepColumns, Does.Not.Contain(ErrorRate.Name));
    }

    /// <summary>
    /// A kind of this assembly: the source resized to the canvas, mirrored left to right and rolled (a made-up protocol).
    /// It checks its own fields, has its geometry, makes its images and asks the page for no image, in this one class.
    /// </summary>
    sealed class MirrorKind : DatasetKind
    {
        public override string Name => "test-mirror";
        public override void Validate(DatasetConfig config)
        {
            if (config.MaxShift is null) throw new ShiftBenchException($"{config.ConfigPath}: kind '{Name}' needs max_shift");
        }
        public override IReadOnlyList<string> SourceFiles(DatasetConfig config) => [config.Source!];
        public override int Room(DatasetConfig config) => config.MaxShift!.Value;
        public override bool IsCircular => true;
        public override string Geometry(DatasetConfig config) => $"{config.Source} mirrored and rolled";
        public override IReadOnlyList<string> NoImageCaption => ["mirrored:", "test kind"];
        public override ShiftImages OpenImages(DatasetConfig config, IReadOnlyList<string> sourcePaths, TorchSharp.torch.Device device, Func<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> normalise) =>
            new MirrorImages(Mirrored(sourcePaths[0], config.Canvas.Size));

        sealed class MirrorImages(TorchSharp.torch.Tensor mirrored) : ShiftImages
        {
            public override TorchSharp.torch.Tensor Render8Bit(int y, int x) => mirrored.roll([y, x], [1, 2]);
            public override void Dispose() => mirrored.Dispose();
        }
    }

    static TorchSharp.torch.Tensor Mirrored(string path, int size)
    {
        using var raw = SourceImage.LoadRgba(path);
        using var resized = SourceImage.Resize8Bit(raw, size, size, DatasetConfig.OpenCvResizeMethod);
        using var rgb = resized[..3];
        return rgb.flip(2).to(TorchSharp.torch.ScalarType.Float32);
    }

    [Test]
    public void AKindRegisteredHereIsCheckedMakesItsImagesAndReachesTheReport()
    {
        var kind = new MirrorKind();
        DatasetKinds.Register(kind);
        try
        {
            var error = Assert.Throws<ShiftBenchException>(() => DatasetConfig.Parse("kind: test-mirror\nsource: plane.png\n", "mirror.yaml"))!;
            Assert.That(error.Message, Is.EqualTo("mirror.yaml: kind 'test-mirror' needs max_shift"), "the kind checks its own fields");
            var config = DatasetConfig.Parse("name: mirror\nkind: test-mirror\nsource: plane.png\nmax_shift: 8\nstride: 4\ncanvas: {size: 32}\n", "mirror.yaml");
            Assert.That((config.Room, config.OffsetUnitPx, config.Offsets(4)), Is.EqualTo((8, 1.0, new[] { 0, 4, 8 })));
            Assert.That(config.SourceFiles, Is.EqualTo(new[] { "plane.png" }));
            Assert.That(config.Canvas.Color, Is.Null, "not a canvas kind: no default colour");

            // The dataset makes the kind's images: position (1, 2) of the 3 x 3 grid is the mirrored source rolled by (4, 8).
            using (var dataset = ShiftDataset.Open(config, TestPaths.DataDir))
            using (var expected = Mirrored(Path.Combine(TestPaths.DataDir, "plane.png"), 32))
            using (var image = dataset.Render8Bit(4, 8))
            using (var batch = dataset.Batch(0, dataset.Count))
            {
                Assert.That(dataset.Count, Is.EqualTo(9));
                Assert.That(image.allclose(expected.roll([4, 8], [1, 2]), 0, 0), Is.True, "bit for bit");
                Assert.That(image.allclose(expected, 0, 0), Is.False, "the roll moved the image");
                using var normalised = image.div(255f).sub(TorchSharp.torch.tensor(ImageNet.Mean.Select(v => (float)v).ToArray()).view(3, 1, 1))
                    .div(TorchSharp.torch.tensor(ImageNet.Std.Select(v => (float)v).ToArray()).view(3, 1, 1));
                Assert.That(batch[1 * 3 + 2].allclose(normalised, 0, 1e-6), Is.True, "the batch normalises the kind's image");
            }

            using var dir = TestPaths.NewTempDir();
            string outDir = Path.Combine(dir, "out");
            WriteRunOfKind(outDir, "mirror", config);
            var ds = BuildReport(outDir)["datasets"]!["mirror"]!;
            Assert.That(ds["noImage"]!.GetValue<bool>(), Is.True);
            Assert.That(ds["caption"]!.AsArray().Select(l => l!.GetValue<string>()), Is.EqualTo(new[] { "mirrored:", "test kind" }));
        }
        finally { DatasetKinds.Unregister(kind); }
        var gone = Assert.Throws<ShiftBenchException>(() => DatasetConfig.Parse("kind: test-mirror\nsource: plane.png\nmax_shift: 8\n", "mirror.yaml"))!;
        Assert.That(gone.Message, Does.Contain("unknown kind 'test-mirror'; use 'patch', 'crop', 'patches', 'roll', 'subpixel'"));
    }

    /// <summary>Reuse asks the kind: the circular kinds run brute force and say why, in the words of the code before kinds were types.</summary>
    [TestCase("plane-roll", "roll")]
    [TestCase("plane-subpixel", "subpixel")]
    public void KindsWithoutExactReuseRunWholeAndSayWhy(string datasetName, string kind)
    {
        var entry = Models.ModelRegistry.Find("alexnet", "torchvision");
        using var shifts = ShiftDataset.Open(DatasetCatalog.Resolve(datasetName), TestPaths.DataDir, 64);
        using var network = ExperimentRunner.Open(entry, null, WeightsSource.Deterministic(), TorchSharp.torch.CPU, ["fc7"], 224, Models.Precision.Fp32);
        using var engine = Runs.Reuse.ReuseEngine.Create(Runs.Reuse.ReuseEngine.On, network, shifts, out var record, entry);
        Assert.That(engine, Is.Null);
        Assert.That(record.Fallback, Is.EqualTo($"dataset kind {kind} is not covered (crop and patch are)"));
    }

    /// <summary>A one-cell sweep (alexnet torchvision on berry) whose runner writes a small run folder; returns OUT and the run folder.</summary>
    static (string OutDir, string RunDir) SweepOneRun(string dir)
    {
        string path = Path.Combine(dir, "sweep.yaml");
        string outDir = Path.Combine(dir, "out");
        File.WriteAllText(path, $"out: {outDir}\nmodels: [alexnet]\nvariants: [torchvision]\ndatasets: [berry]\nstrides: [16]\nlayers: [pool, class]\nanchors: [tl, c]\nweights: deterministic\n");
        var outcome = Sweep.Run(SweepSpec.Load(path), (cell, _) =>
        {
            FeatureRunFolders.Write(cell.OutRoot, cell.Model, cell.Variant, rows: 6, stride: cell.Stride, seed: 3, dataset: cell.DatasetName);
            return Task.CompletedTask;
        }).Single();
        Assert.That(outcome.Status, Is.EqualTo("done"), outcome.Error);
        string runDir = RunLayout.RunDirectory(outDir, "berry", "alexnet", "torchvision");
        // The report draws the dataset: give the run.json the berry config and its source, as a real run records them.
        var berry = DatasetCatalog.Resolve("berry");
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, RunLayout.RunJson)))!;
        json["dataset"] = DatasetSection("berry", berry);
        File.WriteAllText(Path.Combine(runDir, RunLayout.RunJson), json.ToJsonString());
        return (outDir, runDir);
    }

    /// <summary>A complete run (synthetic grids) of a dataset of the given config: run.json records the config and sources as a run does.</summary>
    static void WriteRunOfKind(string outDir, string dataset, DatasetConfig config)
    {
        string runDir = SyntheticRuns.Write(outDir, dataset, "alexnet", "torchvision", rows: 3, cols: 3, stride: 8, layers: ["fc7"], anchors: ["c"]);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, RunLayout.RunJson)))!;
        json["dataset"] = DatasetSection(dataset, config);
        File.WriteAllText(Path.Combine(runDir, RunLayout.RunJson), json.ToJsonString());
    }

    static JsonObject DatasetSection(string name, DatasetConfig config) => new()
    {
        ["name"] = name, ["target_class"] = config.TargetClass, ["config"] = JsonSerializer.SerializeToNode(ExperimentRunner.DatasetRecord(config, []).Config),
        ["sources"] = new JsonArray([.. config.SourceFiles.Select(file => (JsonNode)new JsonObject
        {
            ["file"] = file, ["path"] = Path.Combine(TestPaths.DataDir, file),
            ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(TestPaths.DataDir, file)))),
        })]),
    };

    /// <summary>Builds OUT/index.html and returns the JSON the page embeds.</summary>
    static JsonNode BuildReport(string outDir)
    {
        ReportBuilder.Build(outDir, [TestPaths.DataDir]);
        string html = File.ReadAllText(Path.Combine(outDir, ReportBuilder.FileName));
        const string open = "<script id=\"shiftbench-data\" type=\"application/json\">";
        int start = html.IndexOf(open, StringComparison.Ordinal) + open.Length;
        return JsonNode.Parse(html[start..html.IndexOf("</script>", start, StringComparison.Ordinal)])!;
    }
}
