using NUnit.Framework;

namespace ShiftBench.Tests;

/// <summary>
/// ONNX models that do not fit the dataset (tools/fixtures/make_hostile_onnx_fixtures.py, real torch.onnx.export),
/// given to a real `shiftbench run` on the plane dataset (ImageNet class 895).
/// </summary>
public class HostileOnnxTests
{
    static string Fixture(string name) => Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "onnx", "hostile", name);

    string outDir = "";

    [SetUp]
    public void NewOut() => outDir = Path.Combine(Path.GetTempPath(), "shiftbench-hostile-onnx-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void RemoveOut()
    {
        if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
    }

    (int Code, string Stdout, string Stderr) Run(string model, params string[] extra) =>
        TestCli.Run(["run", "--model", model, "--dataset", "plane", "--stride", "32", "--offline", "--out", outDir, .. extra]);

    static void AssertOneLine((int Code, string Stdout, string Stderr) result, params string[] parts)
    {
        Assert.That(result.Code, Is.EqualTo(2), result.Stderr + result.Stdout);
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), result.Stderr);
        foreach (var part in parts) Assert.That(lines[0], Does.Contain(part));
    }

    [Test]
    public void ClassPastLogitsOfOpenWidthIsRefusedAtTheFirstBatch()
    {
        // The file names the width "classes", so only the first batch can tell: one line, and no run passed off as complete.
        AssertOneLine(Run(Fixture("dynamic_logits.onnx"), "--layers", "fc,class"), "--layers class", "target class 895", "past the 4 values");
        Assert.That(File.Exists(Path.Combine(outDir, "plane", "dynamic_logits", "onnx", "run.json")), Is.False, "no run.json for a refused run");
    }

    [Test]
    public void ClassPastTheLogitsIsRefusedBeforeAnyWork()
    {
        AssertOneLine(Run(Fixture("four_logits.onnx"), "--layers", "fc,class"), "--layers class", "target class 895", "4 values", "'out'");
        Assert.That(Directory.Exists(outDir), Is.False, "nothing written for a refused run");
    }

    [Test]
    public void DefaultLayersLeaveOutAClassThatCannotApply()
    {
        var (code, _, stderr) = Run(Fixture("four_logits.onnx"));
        Assert.That(code, Is.EqualTo(0), stderr);
        string runDir = Path.Combine(outDir, "plane", "four_logits", "onnx");
        Assert.That(Output.RunLayout.IsComplete(runDir), Is.True);
        var layers = Output.RunRecord.Read(runDir)!.Layers;
        Assert.That(layers, Is.EqualTo(new[] { "fc" }));
        Assert.That(File.Exists(Path.Combine(runDir, "class.csv")), Is.False);
    }

    [Test]
    public void ModelsShowsTheLogitsWidth()
    {
        var (code, stdout, stderr) = TestCli.Run("models", "--layers", Fixture("four_logits.onnx"));
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("logits (fc, class): out [batch,4], 4 values per image (class applies to targets 0-3)"));
    }

    [Test]
    public void NanOutputsAreRefusedAtTheFirstForwardPass()
    {
        AssertOneLine(Run(Fixture("nan.onnx")), "nan.onnx", "NaN or infinite");
        Assert.That(Output.RunLayout.IsComplete(Path.Combine(outDir, "plane", "nan", "onnx")), Is.False);
    }

    [Test]
    public void ExternalDataIsFoundBesideTheModelFromAnyWorkingDirectory()
    {
        // The CLI runs with the test's working directory, which does not hold weights.bin.
        Assert.That(File.Exists(Path.Combine(Environment.CurrentDirectory, "weights.bin")), Is.False);
        Assert.That(File.Exists(Fixture(Path.Combine("external", "weights.bin"))), Is.True);
        var (code, _, stderr) = Run(Fixture(Path.Combine("external", "external.onnx")));
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(Output.RunLayout.IsComplete(Path.Combine(outDir, "plane", "external", "onnx")), Is.True);
    }
}
