using System.Diagnostics;
using System.Text.Json.Nodes;
using ShiftBench.Analysis;
using ShiftBench.Datasets;
using ShiftBench.Output;
using ShiftBench.Runs;
using ShiftBench.Workflows;

namespace ShiftBench.Tests;

/// <summary>
/// `shiftbench consistency` against real Pillow / torchvision / PyTorch (tools/fixtures/consistency_reference.py, run
/// here with Debian's python3): an image folder built at test time from the study's two images (odd sizes, JPEG and
/// PNG, grey and RGBA), Pillow's resize byte for byte, the offset generator's sequence, every pair's top-1 class,
/// resume, bad input and an ONNX model.
/// </summary>
[TestFixture, NonParallelizable]
public class ConsistencyTests
{
    const string Python = "/usr/bin/python3";
    const int Pairs = 3;
    TestPaths.TempDir scratch = null!;
    string images = "", labels = "", zooRun = "";

    static string Script => Path.Combine(TestPaths.RepoRoot, "tools", "fixtures", "consistency_reference.py");

    /// <summary>Runs the reference script; without Debian's python3 and its modules the test fails under CI=true and is ignored elsewhere, saying why.</summary>
    static string Reference(params string[] args)
    {
        string? problem = null;
        if (!File.Exists(Python)) problem = $"{Python} does not exist";
        else
        {
            var info = new ProcessStartInfo(Python) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false }.Isolate();
            info.ArgumentList.Add(Script);
            foreach (var a in args) info.ArgumentList.Add(a);
            using var process = Process.Start(info)!;
            var stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode == 0) return stdout;
            var lines = stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            problem = $"consistency_reference.py {args[0]} exited {process.ExitCode}: {(lines.Length > 0 ? lines[^1] : "")}";
        }
        if (Environment.GetEnvironmentVariable("CI") == "true")
            Assert.Fail($"{problem} (.ci/run installs python3-torch python3-torchvision python3-pil)");
        Assert.Ignore($"{problem}; install Debian's python3-torch python3-torchvision python3-pil to run this test");
        return "";
    }

    [OneTimeSetUp]
    public void BuildFolder()
    {
        scratch = TestPaths.NewTempDir();
        images = Path.Combine(scratch, "photos");
        labels = Path.Combine(images, "labels.txt");
        Reference("folder", TestPaths.DataDir, images);
    }

    [OneTimeTearDown]
    public void Remove() => scratch.Dispose();

    /// <summary>The zoo run every test compares with: AlexNet (torchvision) on synthetic weights, 3 pairs per image, seed 7.</summary>
    string ZooRun()
    {
        if (zooRun.Length > 0) return zooRun;
        var (code, stdout, stderr) = TestCli.Run("consistency", "--model", "alexnet", "--variant", "torchvision", "--weights", "deterministic",
            "--images", images, "--labels", labels, "--pairs-per-image", Pairs.ToString(), "--seed", "7", "--batch-size", "5", "--out", Path.Combine(scratch, "out"));
        Assert.That(code, Is.EqualTo(0), stderr);
        zooRun = RunLayout.ConsistencyDirectory(Path.Combine(scratch, "out"), "alexnet", "torchvision", images);
        Assert.That(stdout, Does.Contain(zooRun));
        return zooRun;
    }

    static List<string[]> Rows(string pairsCsv) =>
        [.. File.ReadAllLines(pairsCsv).Skip(1).Select(l => l.Split(','))];

    [Test]
    [Category(TestTier.Fast)]
    public void PillowBilinearResizeIsByteExact()
    {
        string dir = Path.Combine(scratch, "resize");
        Reference("resize", dir);
        var cases = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "cases.json")))!.AsArray();
        Assert.That(cases, Has.Count.GreaterThanOrEqualTo(10));
        foreach (var c in cases)
        {
            int i = c!["index"]!.GetValue<int>(), w = c["width"]!.GetValue<int>(), h = c["height"]!.GetValue<int>();
            int nw = c["new_width"]!.GetValue<int>(), nh = c["new_height"]!.GetValue<int>();
            var src = File.ReadAllBytes(Path.Combine(dir, $"src-{i}.rgb"));
            var expected = File.ReadAllBytes(Path.Combine(dir, $"dst-{i}.rgb"));
            var ours = PillowResize.Resize(src, w, h, 3, nw, nh);
            int differ = ours.Zip(expected).Count(p => p.First != p.Second);
            Assert.That(differ, Is.EqualTo(0), $"{w}x{h} -> {nw}x{nh}: {differ} of {expected.Length} bytes differ from Pillow");
        }
    }

    [Test]
    public void DecodingAndResizeCentreCropMatchTorchvisionOnPil()
    {
        string dir = Path.Combine(scratch, "transform");
        Reference("transform", images, dir);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "manifest.json")))!.AsArray();
        var folder = ImageFolder.Open(images, labels);
        Assert.That(folder.Select(f => f.Name), Is.EqualTo(manifest.Select(m => m!["name"]!.GetValue<string>())));
        foreach (var m in manifest)
        {
            string name = m!["name"]!.GetValue<string>(), file = m["file"]!.GetValue<string>();
            var (rgb, width, height) = ImageFolder.LoadRgb(Path.Combine(images, name));
            Assert.That((width, height), Is.EqualTo((m["width"]!.GetValue<int>(), m["height"]!.GetValue<int>())), name);
            Assert.That(rgb, Is.EqualTo(File.ReadAllBytes(Path.Combine(dir, file + ".decoded"))), $"{name}: decoded pixels differ from PIL's");
            Assert.That(ImageFolder.ResizeCenterCrop(rgb, width, height, 256, 256), Is.EqualTo(File.ReadAllBytes(Path.Combine(dir, file + ".rgb"))),
                $"{name}: Resize(256) + CenterCrop(256) differs from torchvision's on PIL");
        }
        // The folder covers both directions of resizing, JPEG and PNG.
        var sizes = manifest.Select(m => Math.Min(m!["width"]!.GetValue<int>(), m["height"]!.GetValue<int>())).ToList();
        Assert.That(sizes, Has.Some.LessThan(256).And.Some.GreaterThan(256));
        Assert.That(manifest.Select(m => Path.GetExtension(m!["name"]!.GetValue<string>())).Distinct(), Is.EquivalentTo(new[] { ".jpg", ".png" }));
    }

    [Test]
    [Category(TestTier.Fast)]
    public void OffsetGeneratorFollowsTheStatedSequence()
    {
        foreach (var (seed, maxShift) in new[] { (0UL, 32), (7UL, 32), (18446744073709551615UL, 17), (12345UL, 1) })
        {
            var expected = System.Text.Json.JsonSerializer.Deserialize<int[]>(Reference("draws", seed.ToString(), "40", maxShift.ToString()))!;
            var pairs = ShiftPairs.Draw(seed, 5, 2, maxShift);
            var ours = pairs.SelectMany(p => new[] { p.Y1, p.X1, p.Y2, p.X2 }).ToArray();
            Assert.That(ours, Is.EqualTo(expected), $"seed {seed}, max shift {maxShift}");
            Assert.That(ours, Is.All.InRange(0, maxShift - 1));
        }
        Assert.That(ShiftPairs.Draw(1, 4, 5, 32), Is.Not.EqualTo(ShiftPairs.Draw(2, 4, 5, 32)), "different seeds, different pairs");
    }

    [Test]
    public void EveryPairsTop1MatchesPyTorch()
    {
        string run = ZooRun();
        var rows = Rows(Path.Combine(run, RunLayout.PairsCsv));
        var folder = ImageFolder.Open(images, labels);
        Assert.That(rows, Has.Count.EqualTo(folder.Count * Pairs));
        // Offsets are the generator's, in image name order.
        var pairs = ShiftPairs.Draw(7, folder.Count, Pairs, 32);
        for (int p = 0; p < rows.Count; p++)
        {
            Assert.That(rows[p][0], Is.EqualTo(folder[p / Pairs].Name));
            Assert.That(rows[p][1..5].Select(int.Parse), Is.EqualTo(new[] { pairs[p].Y1, pairs[p].X1, pairs[p].Y2, pairs[p].X2 }));
        }
        var reference = JsonNode.Parse(Reference("pairs", images, Path.Combine(run, RunLayout.PairsCsv), "alexnet"))!.AsArray();
        Assert.That(reference, Has.Count.EqualTo(rows.Count));
        for (int p = 0; p < rows.Count; p++)
        {
            var top1 = reference[p]!["top1"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray();
            Assert.That(new[] { int.Parse(rows[p][5]), int.Parse(rows[p][6]) }, Is.EqualTo(top1), $"pair {p} ({rows[p][0]}): top-1 differs from PyTorch's");
            Assert.That(rows[p][7], Is.EqualTo(top1[0] == top1[1] ? "1" : "0"));
            int label = int.Parse(rows[p][8]);
            Assert.That(rows[p][9..11], Is.EqualTo(new[] { top1[0] == label ? "1" : "0", top1[1] == label ? "1" : "0" }));
        }
        // The synthetic network is not constant: the check covers several classes and both outcomes.
        Assert.That(rows.SelectMany(r => r[5..7]).Distinct().Count(), Is.GreaterThan(2));
        Assert.That(rows.Select(r => r[7]).Distinct(), Is.EquivalentTo(new[] { "0", "1" }));

        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(run, RunLayout.SummaryJson)))!;
        int agree = rows.Count(r => r[7] == "1");
        var consistency = summary["consistency"]!;
        Assert.That(consistency["count"]!.GetValue<long>(), Is.EqualTo(agree));
        Assert.That(consistency["of"]!.GetValue<long>(), Is.EqualTo(rows.Count));
        Assert.That(consistency["percent"]!.GetValue<double>(), Is.EqualTo(100.0 * agree / rows.Count).Within(1e-9));
        var wilson = Proportion.Wilson(agree, rows.Count);
        Assert.That(consistency["low"]!.GetValue<double>(), Is.EqualTo(100 * wilson.Low).Within(1e-9));
        Assert.That(consistency["low"]!.GetValue<double>(), Is.LessThan(consistency["percent"]!.GetValue<double>()));
        Assert.That(consistency["high"]!.GetValue<double>(), Is.GreaterThan(consistency["percent"]!.GetValue<double>()));
        int correct = rows.Sum(r => int.Parse(r[9]) + int.Parse(r[10]));
        Assert.That(summary["accuracy"]!["count"]!.GetValue<long>(), Is.EqualTo(correct));
        Assert.That(summary["accuracy"]!["of"]!.GetValue<long>(), Is.EqualTo(2 * rows.Count));
        Assert.That(summary["seed"]!.GetValue<ulong>(), Is.EqualTo(7UL));
        Assert.That(summary["complete"]!.GetValue<bool>(), Is.True);
        Assert.That(Directory.Exists(Path.Combine(run, RunLayout.PartialFolder)), Is.False);
    }

    [Test]
    public void Bf16RunsInItsOwnFolderAndAgreesWithFp32()
    {
        string fp32Out = Path.Combine(scratch, "out"), bf16Out = Path.Combine(scratch, "out-bf16");
        string fp32 = ZooRun();
        string[] common = ["consistency", "--model", "alexnet", "--variant", "torchvision", "--weights", "deterministic", "--images", images,
            "--labels", labels, "--pairs-per-image", Pairs.ToString(), "--seed", "7", "--batch-size", "5", "--precision", "bf16"];
        // An output folder holds one precision: bf16 beside the fp32 results is refused before anything is written.
        var (code, stdout, stderr) = TestCli.Run([.. common, "--out", fp32Out]);
        Assert.That(code, Is.EqualTo(2), stderr);
        Assert.That(stderr.Trim().Split('\n'), Has.Length.EqualTo(1), stderr);
        Assert.That(stderr, Does.Contain("holds fp32 results").And.Contain("--out " + fp32Out + "-bf16"));
        Assert.That(Directory.Exists(RunLayout.ConsistencyDirectory(fp32Out, "alexnet", "torchvision", images) + "-bf16"), Is.False);

        (code, stdout, stderr) = TestCli.Run([.. common, "--out", bf16Out]);
        Assert.That(code, Is.EqualTo(0), stderr);
        string bf16 = RunLayout.ConsistencyDirectory(bf16Out, "alexnet", "torchvision", images);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(bf16, RunLayout.SummaryJson)))!;
        Assert.That(summary[RunLayout.PrecisionField]!.GetValue<string>(), Is.EqualTo("bf16"));
        Assert.That(JsonNode.Parse(File.ReadAllText(Path.Combine(fp32, RunLayout.SummaryJson)))![RunLayout.PrecisionField]!.GetValue<string>(), Is.EqualTo("fp32"));
        Assert.That(summary["fingerprint"]!.GetValue<string>(), Is.Not.EqualTo(JsonNode.Parse(File.ReadAllText(Path.Combine(fp32, RunLayout.SummaryJson)))!["fingerprint"]!.GetValue<string>()));
        // Same pairs; bf16 keeps 8 significant bits, so nearly every crop keeps its top-1 class.
        var a = Rows(Path.Combine(fp32, RunLayout.PairsCsv));
        var b = Rows(Path.Combine(bf16, RunLayout.PairsCsv));
        Assert.That(b.Select(r => r[..5]), Is.EqualTo(a.Select(r => r[..5])));
        int same = a.Zip(b).Sum(p => (p.First[5] == p.Second[5] ? 1 : 0) + (p.First[6] == p.Second[6] ? 1 : 0));
        Assert.That(same, Is.GreaterThanOrEqualTo(0.9 * 2 * a.Count), $"{same} of {2 * a.Count} crops keep their top-1 class");

        // And a `run` into the bf16 folder in fp32 is refused the same way: consistency results count as results.
        (code, _, stderr) = TestCli.Run("run", "--model", "alexnet", "--variant", "torchvision", "--dataset", "berry", "--weights", "deterministic",
            "--stride", "62", "--data-dir", TestPaths.DataDir, "--out", bf16Out);
        Assert.That(code, Is.EqualTo(2), stderr);
        Assert.That(stderr, Does.Contain("holds bf16"));
        Assert.That(Directory.Exists(Path.Combine(bf16Out, "berry")), Is.False);

        // bf16 is for TorchSharp networks and fp16 for CUDA: both refused in one line.
        (code, _, stderr) = TestCli.Run([.. common[..^2], "--precision", "fp16", "--out", Path.Combine(scratch, "out-fp16")]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("fp16"));
    }

    [Test]
    [Category(TestTier.Fast)]
    public void WilsonIntervalMatchesItsClosedFormsAtTheEnds()
    {
        const double z2 = Proportion.Z95 * Proportion.Z95;
        var none = Proportion.Wilson(0, 36);
        Assert.That(none.Low, Is.EqualTo(0));
        Assert.That(none.High, Is.EqualTo(z2 / (36 + z2)).Within(1e-15));
        var all = Proportion.Wilson(40, 40);
        Assert.That(all.Low, Is.EqualTo(40 / (40 + z2)).Within(1e-15));
        Assert.That(all.High, Is.EqualTo(1));
        // p = 1/2: symmetric about 1/2 with half-width z*sqrt(n/4 + z²/4)/(n + z²) (Wilson's formula times n/n).
        var half = Proportion.Wilson(50, 100);
        double w = Proportion.Z95 * Math.Sqrt(25 + z2 / 4) / (100 + z2);
        Assert.That((half.Low, half.High), Is.EqualTo((0.5 - w, 0.5 + w)).Using<(double, double)>((a, b) => Math.Abs(a.Item1 - b.Item1) < 1e-14 && Math.Abs(a.Item2 - b.Item2) < 1e-14));
    }

    [Test]
    public void AnInterruptedRunResumesToTheSameFiles()
    {
        string whole = File.ReadAllText(Path.Combine(ZooRun(), RunLayout.PairsCsv));
        string outDir = Path.Combine(scratch, "resume");
        var request = new ConsistencyChoices
        {
            Model = "alexnet", Variant = "torchvision", Weights = "deterministic", Images = images, Labels = labels, PairsPerImage = Pairs,
            Seed = 7, BatchSize = 5, Out = outDir, Resume = true,
        }.Build().Single();
        using var cancel = new CancellationTokenSource();
        var seen = new List<int>();
        var progress = new SyncProgress(u => { seen.Add((int)u.Done); if (u.Done >= 10) cancel.Cancel(); });
        Assert.Throws<OperationCanceledException>(() => ConsistencyRunner.Run(request, progress, cancel.Token));
        string run = request.RunDirectory;
        Assert.That(File.Exists(Path.Combine(run, RunLayout.SummaryJson)), Is.False, "an interrupted run has no summary");
        Assert.That(File.Exists(Path.Combine(run, RunLayout.PairsCsv)), Is.False, "nor a half-written pairs.csv");
        Assert.That(File.Exists(Path.Combine(run, RunLayout.PartialFolder, RunLayout.ProgressFile)), Is.True);

        seen.Clear();
        var result = ConsistencyRunner.Run(request, new SyncProgress(u => seen.Add((int)u.Done)));
        Assert.That(seen[0], Is.EqualTo(10), "continues after the last finished batch");
        Assert.That(result.Skipped, Is.False);
        Assert.That(File.ReadAllText(Path.Combine(run, RunLayout.PairsCsv)), Is.EqualTo(whole));
        Assert.That(ConsistencyRunner.Run(request).Skipped, Is.True, "a complete run with the same inputs is skipped under --resume");
    }

    sealed class SyncProgress(Action<ProgressUpdate> report) : IProgress<ProgressUpdate>
    {
        public void Report(ProgressUpdate value) => report(value);
    }

    [Test]
    [Category(TestTier.Fast)]
    public void BadInputIsOneLineNamingIt()
    {
        string bad = Path.Combine(scratch, "bad");
        Directory.CreateDirectory(Path.Combine(bad, "empty"));
        Directory.CreateDirectory(Path.Combine(bad, "broken"));
        File.Copy(Path.Combine(images, "plane-a.jpg"), Path.Combine(bad, "broken", "ok.jpg"));
        File.WriteAllText(Path.Combine(bad, "broken", "not-an-image.jpg"), "this is text");
        File.WriteAllText(Path.Combine(bad, "labels-bad.txt"), "plane-a.jpg 895\nberry-a.png strawberry\n");
        File.WriteAllText(Path.Combine(bad, "labels-short.txt"), "plane-a.jpg 895\n");
        File.WriteAllText(Path.Combine(bad, "labels-extra.txt"), File.ReadAllText(labels) + "missing.jpg 3\n");
        string outDir = Path.Combine(bad, "out");
        var cases = new (string[] Args, string[] Expect)[]
        {
            (["--images", Path.Combine(bad, "nowhere")], ["--images", "nowhere", "not a folder"]),
            (["--images", Path.Combine(bad, "empty")], ["--images", "empty", "no .jpg"]),
            (["--images", Path.Combine(bad, "broken")], ["not-an-image.jpg", "cannot be read"]),
            (["--images", images, "--labels", Path.Combine(bad, "labels-bad.txt")], ["labels-bad.txt line 2", "CLASS_INDEX"]),
            (["--images", images, "--labels", Path.Combine(bad, "labels-short.txt")], ["labels-short.txt has no line for berry-a.png"]),
            (["--images", images, "--labels", Path.Combine(bad, "labels-extra.txt")], ["missing.jpg", "is not an image"]),
            (["--images", images, "--labels", Path.Combine(bad, "nolabels.txt")], ["--labels", "nolabels.txt does not exist"]),
            (["--images", images, "--max-shift", "40"], ["--max-shift 40", "1..33"]),
            (["--images", images, "--pairs-per-image", "0"], ["--pairs-per-image 0"]),
            (["--images", images, "--diagonal"], ["--diagonal needs --labels"]),
        };
        foreach (var (args, expect) in cases)
        {
            var (code, stdout, stderr) = TestCli.Run(["consistency", "--model", "alexnet", "--variant", "torchvision", "--weights", "deterministic", "--out", outDir, .. args]);
            Assert.That(code, Is.EqualTo(2), string.Join(' ', args) + ": " + stderr);
            var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.That(lines, Has.Length.EqualTo(1), stderr);
            foreach (var e in expect) Assert.That(lines[0], Does.Contain(e), string.Join(' ', args));
            Assert.That(stdout, Is.Empty);
        }
        Assert.That(Directory.Exists(outDir), Is.False, "bad input writes nothing");
    }

    [Test]
    public void DiagonalSweepMatchesPyTorch()
    {
        // The synthetic network never predicts the photos' real classes; labelling each image with the class it gives
        // some crop (the first pair's crop A, checked against PyTorch above) makes the accuracy vary along the diagonal.
        string diagLabels = Path.Combine(scratch, "labels-diagonal.txt");
        File.WriteAllLines(diagLabels, Rows(Path.Combine(ZooRun(), RunLayout.PairsCsv)).Where((_, i) => i % Pairs == 0).Select(r => $"{r[0]} {r[5]}"));
        string outDir = Path.Combine(scratch, "diag");
        var (code, stdout, stderr) = TestCli.Run("consistency", "--model", "alexnet", "--variant", "torchvision", "--weights", "deterministic",
            "--images", images, "--labels", diagLabels, "--diagonal", "--batch-size", "16", "--out", outDir);
        Assert.That(code, Is.EqualTo(0), stderr);
        string run = RunLayout.DiagonalDirectory(outDir, "alexnet", "torchvision", images);
        Assert.That(stdout, Does.Contain(run).And.Contain("mean target probability"));
        var reference = JsonNode.Parse(Reference("diagonal", images, diagLabels, "alexnet"))!;
        var prob = reference["mean_target_prob"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        var acc = reference["accuracy"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        var lines = File.ReadAllLines(Path.Combine(run, RunLayout.Csv(RunLayout.DiagonalStem)));
        Assert.That(lines[0], Is.EqualTo("shift,images,mean_target_prob,accuracy,accuracy_low,accuracy_high"));
        Assert.That(lines, Has.Length.EqualTo(1 + ConsistencyRunner.DiagonalShifts));
        int images6 = ImageFolder.Open(images, diagLabels).Count;
        for (int d = 0; d < ConsistencyRunner.DiagonalShifts; d++)
        {
            var f = lines[1 + d].Split(',').Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            Assert.That(f[0], Is.EqualTo(d));
            Assert.That(f[1], Is.EqualTo(images6));
            Assert.That(f[2], Is.EqualTo(prob[d]).Within(1e-4 * prob[d] + 1e-9), $"shift {d}: mean target probability");
            Assert.That(f[3], Is.EqualTo(acc[d]), $"shift {d}: accuracy");
            var wilson = Proportion.Wilson((long)Math.Round(acc[d] * images6), images6);
            Assert.That((f[4], f[5]), Is.EqualTo((wilson.Low, wilson.High)));
        }
        Assert.That(prob.Distinct().Count(), Is.GreaterThan(1), "the probability changes along the diagonal");
        Assert.That(acc.Distinct().Count(), Is.GreaterThan(1), "so does the accuracy");
        var png = File.ReadAllBytes(Path.Combine(run, RunLayout.DiagonalStem + ".png"));
        Assert.That(png[..4], Is.EqualTo(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }));
        using (var image = SixLabors.ImageSharp.Image.Load(png))
            Assert.That((image.Width, image.Height), Is.EqualTo((ShiftBench.Report.DiagonalPlot.Width, ShiftBench.Report.DiagonalPlot.Height)));
        Assert.That(File.ReadAllText(Path.Combine(run, RunLayout.DiagonalStem + ".svg")), Does.Contain("<svg").And.Contain("diagonal shift"));
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(run, RunLayout.SummaryJson)))!;
        Assert.That(summary["protocol"]!.GetValue<string>(), Is.EqualTo("diagonal"));
        Assert.That(summary["mean_target_prob"]!.GetValue<double>(), Is.EqualTo(prob.Average()).Within(1e-4 * prob.Average()));
        Assert.That(summary["accuracy"]!["of"]!.GetValue<long>(), Is.EqualTo(images6 * ConsistencyRunner.DiagonalShifts));
        Assert.That(summary["accuracy"]!["count"]!.GetValue<long>(), Is.EqualTo((long)Math.Round(acc.Sum() * images6)));
    }

    [Test]
    public void OnnxModelGivesTheSamePairsAsPyTorch()
    {
        string run = ZooRun();
        string onnx = OnnxExports.File_("alexnet.onnx");
        string outDir = Path.Combine(scratch, "onnx");
        var (code, stdout, stderr) = TestCli.Run("consistency", "--model", onnx, "--name", "alexnet-onnx", "--images", images, "--labels", labels,
            "--pairs-per-image", Pairs.ToString(), "--seed", "7", "--out", outDir);
        Assert.That(code, Is.EqualTo(0), stderr);
        string onnxRun = RunLayout.ConsistencyDirectory(outDir, "alexnet-onnx", "onnx", images);
        Assert.That(stdout, Does.Contain(onnxRun));
        // The zoo run's pairs are PyTorch's (EveryPairsTop1MatchesPyTorch); the ONNX export of the same network must agree.
        Assert.That(Rows(Path.Combine(onnxRun, RunLayout.PairsCsv)), Is.EqualTo(Rows(Path.Combine(run, RunLayout.PairsCsv))));
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(onnxRun, RunLayout.SummaryJson)))!;
        Assert.That(summary["variant"]!.GetValue<string>(), Is.EqualTo("onnx"));
        Assert.That(summary["onnx"]!["sha256"]!.GetValue<string>(), Is.EqualTo(FileHash.Sha256(onnx)));
    }
}
