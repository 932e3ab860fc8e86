using System.Text;
using System.Text.Json.Nodes;
using ShiftBench.Output;

namespace ShiftBench.Tests;

/// <summary>
/// The typed run records (Output/RunRecord.cs, SummaryRecord.cs, ConsistencySummaryRecord.cs): a run made by the CLI
/// reads and writes back byte for byte, files of earlier versions (Fixtures/records/schema0) read as before, and a
/// newer schema or a damaged file is refused in one line naming it, by the commands that read runs.
/// </summary>
[Category(TestTier.Fast)]
public class RunRecordTests
{
    TestPaths.TempDir scratch = null!;
    string runDir = null!;

    /// <summary>One small run (one position) made by the CLI, shared by the tests below; each works on a copy.</summary>
    [OneTimeSetUp]
    public void MakeARun()
    {
        scratch = TestPaths.NewTempDir();
        string outDir = Path.Combine(scratch, "made");
        var result = TestCli.Run("run", "--model", "alexnet", "--variant", "torchvision", "--weights", "deterministic",
            "--dataset", "berry", "--stride", "125", "--offline", "--out", outDir);
        Assert.That(result.Code, Is.EqualTo(0), result.Stderr);
        runDir = RunLayout.RunDirectory(outDir, "berry", "alexnet", "torchvision");
    }

    [OneTimeTearDown]
    public void Remove() => scratch.Dispose();

    /// <summary>OUT/berry/alexnet/torchvision holding a copy of the CLI's run, for a command to read.</summary>
    string CopyOfTheRun(string name)
    {
        string outDir = Path.Combine(scratch, name);
        string copy = RunLayout.RunDirectory(outDir, "berry", "alexnet", "torchvision");
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(runDir)) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        return outDir;
    }

    static void AssertWritesBack(string file, Action<string> readAndWriteTo, string expected)
    {
        using var dir = TestPaths.NewTempDir();
        readAndWriteTo(dir);
        Assert.That(File.ReadAllText(Path.Combine(dir, Path.GetFileName(file))), Is.EqualTo(expected), file);
    }

    [Test]
    public void ARunMadeByTheCliReadsAndWritesBackByteForByte()
    {
        string runJson = RunRecord.PathIn(runDir), summaryJson = SummaryRecord.PathIn(runDir);
        Assert.That(File.ReadLines(runJson).Take(2), Is.EqualTo(new[] { "{", "  \"schema_version\": 1," }), "schema_version comes first");
        Assert.That(File.ReadLines(summaryJson).Take(2), Is.EqualTo(new[] { "{", "  \"schema_version\": 1," }));

        var run = RunRecord.Read(runDir)!;
        Assert.That((run.SchemaVersion, run.Model, run.Variant, run.Dataset.Name, run.Complete), Is.EqualTo((1, "alexnet", "torchvision", "berry", true)));
        Assert.That((run.Grid.Rows, run.Grid.Cols, run.Grid.Stride), Is.EqualTo((1, 1, 125)));
        Assert.That(run.Anchors.Keys, Is.EqualTo(new[] { "tl", "tr", "c", "bl", "br" }));
        Assert.That(run.Layers, Does.Contain("fc7").And.Contain("class"));
        AssertWritesBack(runJson, run.Write, File.ReadAllText(runJson));

        var summary = SummaryRecord.Read(runDir)!;
        Assert.That(summary.Layers.Keys, Is.EqualTo(run.Layers), "a summary entry per layer, in the run's order");
        Assert.That(summary.Layers["class"]["accuracy"], Is.EqualTo(0.0).Or.EqualTo(1.0));
        Assert.That(summary.Layers["fc7"]["local"], Is.Null, "a one-position grid has no neighbours: undefined, null");
        AssertWritesBack(summaryJson, summary.Write, File.ReadAllText(summaryJson));
    }

    /// <summary>A schema-0 file's bytes as this version writes it: the same, with schema_version first.</summary>
    static string WithVersion(string schema0)
    {
        Assert.That(schema0, Does.StartWith("{\n  \"").And.Not.Contain("schema_version"));
        return "{\n  \"schema_version\": 1," + schema0[1..];
    }

    static string Schema0(string folder, string file) => TestPaths.Fixture("records", "schema0", folder, file);

    [TestCase("")]
    [TestCase("patches")]
    [TestCase("modules")]
    [TestCase("onnx")]
    public void AnEarlierRunJsonIsReadAsItWasWritten(string folder)
    {
        string path = Schema0(folder, RunLayout.RunJson);
        var run = RunRecord.Read(Path.GetDirectoryName(path)!)!;
        Assert.That((run.SchemaVersion, run.Complete, run.PrecisionOrDefault, run.Shards), Is.EqualTo((0, true, "fp32", (int?)1)));
        Assert.That(run.Fingerprint, Does.Match("^[0-9a-f]{16}"));
        switch (folder)
        {
            case "":
                Assert.That((run.Model, run.Variant, run.Dataset.Name, run.Dataset.TargetClass), Is.EqualTo(("alexnet", "torchvision", "berry", 949)));
                Assert.That((run.Grid.Rows, run.Grid.Cols, run.Grid.Stride, run.Grid.OffsetPx), Is.EqualTo((3, 3, 62, (double?)1.0)));
                Assert.That(run.Grid.Offsets, Is.EqualTo(new[] { 0, 62, 124 }));
                Assert.That(run.Layers, Is.EqualTo(new[] { "fc7", "class" }));
                Assert.That(run.Anchors["br"], Is.EqualTo(new[] { 124, 124 }));
                Assert.That(run.Dataset.Config!.Value.GetProperty("resize_method").GetString(), Is.EqualTo("opencv"));
                Assert.That(run.Dataset.Sources!.Single().File, Is.EqualTo("berry_transparent.png"));
                Assert.That(run.Weights, Is.EqualTo(new RunWeights("deterministic", "", "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth")));
                Assert.That(run.Reuse!.Method, Is.EqualTo("patch-canvas"));
                Assert.That(run.Patches, Is.Null);
                break;
            case "patches":
                Assert.That(run.Patches, Is.EqualTo(new[] { "a", "b" }));
                Assert.That(run.Dataset.Sources!.Select(s => Path.GetFileName(s.File)), Is.EqualTo(new[] { "a.png", "b.png" }));
                break;
            case "modules":
                var module = run.Modules!["features.4@map"];
                Assert.That((module.Module, module.Reduction), Is.EqualTo(("features.4", "map")));
                Assert.That(module.Shape, Is.EqualTo(new long[] { 192, 27, 27 }));
                break;
            case "onnx":
                Assert.That(run.Variant, Is.EqualTo("onnx"));
                Assert.That(run.FilterSize, Is.Null);
                Assert.That(run.Modules, Is.Null);
                Assert.That((run.Reuse!.Method, run.Reuse.Fallback), Is.EqualTo(((string?)null, "ONNX networks are run whole")));
                Assert.That(run.Onnx!.Value.GetProperty("logits").GetString(), Is.Not.Empty);
                break;
        }
        AssertWritesBack(path, run.Write, WithVersion(File.ReadAllText(path)));
    }

    [Test]
    public void AnEarlierSummaryJsonIsReadAsItWasWritten()
    {
        string path = Schema0("", RunLayout.SummaryJson);
        var summary = SummaryRecord.Read(Path.GetDirectoryName(path)!)!;
        Assert.That((summary.SchemaVersion, summary.OffsetPx, summary.NeighbourPx), Is.EqualTo((0, (double?)1.0, (double?)62.0)));
        Assert.That(summary.Layers["fc7"]["global"], Is.EqualTo(0.9369572218096196));
        Assert.That(summary.Layers["fc7"].Anchors!["c"]["std"], Is.EqualTo(0.01914055418551597));
        Assert.That(summary.Layers["class"]["mac"], Is.EqualTo(7.032165497851868E-05));
        Assert.That(summary.Layers["class"].Anchors, Is.Null);
        Assert.That(summary.Rows().Count(), Is.EqualTo(Leaves(JsonNode.Parse(File.ReadAllText(path))!["layers"]!)), "a row per value of the file");
        AssertWritesBack(path, summary.Write, WithVersion(File.ReadAllText(path)));
    }

    static int Leaves(JsonNode? node) => node is JsonObject o ? o.Sum(p => Leaves(p.Value)) : 1;

    [TestCase("consistency")]
    [TestCase("diagonal")]
    public void AnEarlierConsistencySummaryIsReadAsItWasWritten(string protocol)
    {
        string path = Schema0(protocol, RunLayout.SummaryJson);
        var summary = ConsistencySummaryRecord.Read(Path.GetDirectoryName(path)!)!;
        Assert.That((summary.SchemaVersion, summary.Protocol, summary.Model, summary.Complete, summary.PrecisionOrDefault), Is.EqualTo((0, protocol, "alexnet", true, "fp32")));
        if (protocol == "consistency")
        {
            Assert.That(summary.Consistency, Is.EqualTo(new SharePercent(100, 51.01091635454027, 100, 4, 4, "agreeing pairs")));
            Assert.That((summary.Seed, summary.Pairs, summary.Accuracy, summary.Shifts), Is.EqualTo(((ulong?)7, (int?)4, (SharePercent?)null, (int?)null)));
        }
        else
            Assert.That((summary.Shifts, summary.Accuracy!.Of, summary.Consistency), Is.EqualTo(((int?)33, 66L, (SharePercent?)null)));
        AssertWritesBack(path, summary.Write, WithVersion(File.ReadAllText(path)));
    }

    /// <summary>The command's stderr is one line, "error: " and the message.</summary>
    static string OneLineError((int Code, string Stdout, string Stderr) result)
    {
        Assert.That(result.Code, Is.EqualTo(2), result.Stderr);
        string line = result.Stderr.TrimEnd('\n');
        Assert.That(line, Does.StartWith("error: ").And.Not.Contain('\n'));
        return line;
    }

    [Test]
    public void ARunJsonOfANewerSchemaIsRefusedInOneLine()
    {
        string outDir = CopyOfTheRun("newer");
        string path = RunRecord.PathIn(RunLayout.RunDirectory(outDir, "berry", "alexnet", "torchvision"));
        var json = JsonNode.Parse(File.ReadAllText(path))!;
        json["schema_version"] = 2;
        File.WriteAllText(path, json.ToJsonString());
        foreach (string[] command in new[] { ["report", outDir], new[] { "compare", outDir, "--model", "alexnet", "--dataset", "berry" } })
            Assert.That(OneLineError(TestCli.Run(command)), Does.Contain(path).And.Contain("schema_version 2").And.Contain("upgrade ShiftBench"), command[0]);
    }

    [TestCase("torn")]
    [TestCase("garbage")]
    [TestCase("wrong type")]
    [TestCase("missing field")]
    public void ADamagedRunJsonIsRefusedInOneLineNamingTheFile(string damage)
    {
        string outDir = CopyOfTheRun(damage.Replace(' ', '-'));
        string path = RunRecord.PathIn(RunLayout.RunDirectory(outDir, "berry", "alexnet", "torchvision"));
        string text = File.ReadAllText(path);
        var json = JsonNode.Parse(text)!.AsObject();
        (string written, string expected) = damage switch
        {
            "torn" => (text[..(text.Length / 2)], "is damaged"),
            "garbage" => ("\0\u0001 not JSON", "is damaged"),
            "wrong type" => (Set(json, "grid", new JsonObject { ["rows"] = "three", ["cols"] = 1, ["stride"] = 125 }), "field grid.rows has the wrong type"),
            _ => (Set(json, "model", null), "field model is missing"),
        };
        File.WriteAllText(path, written, new UTF8Encoding(false));
        foreach (string[] command in new[] { ["report", outDir], new[] { "compare", outDir, "--model", "alexnet", "--dataset", "berry" } })
            Assert.That(OneLineError(TestCli.Run(command)), Does.StartWith("error: " + path + " ").And.Contain(expected).And.EndWith(RunRecord.Fix), command[0]);
    }

    /// <summary>The object with one field replaced (null: removed), as JSON.</summary>
    static string Set(JsonObject json, string field, JsonNode? value)
    {
        if (value is null) json.Remove(field); else json[field] = value;
        return json.ToJsonString();
    }

    [Test]
    public void ASummaryWithAMetricThatIsNotANumberIsRefused()
    {
        using var dir = TestPaths.NewTempDir();
        string path = SummaryRecord.PathIn(dir);
        File.WriteAllText(path, """{"offset_px": 1, "neighbour_px": 1, "layers": {"fc7": {"global": "high"}}}""");
        var error = Assert.Throws<RecordException>(() => SummaryRecord.Read(dir))!;
        Assert.That(error.Message, Does.StartWith(path + " is damaged").And.Contain("metric 'global' is not a number"));
    }
}
