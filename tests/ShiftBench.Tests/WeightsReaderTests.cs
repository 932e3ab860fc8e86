using Razorvine.Pickle;
using ShiftBench.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Tests;

[Category(TestTier.Fast)]
public class WeightsReaderTests
{
    private static readonly string[] Formats = ["zip", "legacy"];

    // Plain, {"state_dict": {"module.*"}, "epoch": ...}, module.-prefixed, mixed element types,
    // whole state dicts in float16/float64, and views sharing one storage (offsets, transposes, strides).
    private static readonly string[] ReadableCases =
        ["tiny", "wrapped", "module_prefixed", "dtypes", "tiny_half", "tiny_double", "views"];

    private static IEnumerable<TestCaseData> Readable() =>
        from c in ReadableCases from f in Formats select new TestCaseData(c, f);

    [TestCaseSource(nameof(Readable))]
    public void ReadsEveryEntryInFileOrderWithPyTorchsValues(string @case, string format)
    {
        var expected = WeightsFixtures.Entries(@case);
        var stateDict = PthFile.ReadStateDict(WeightsFixtures.File(@case, format));
        try
        {
            Assert.That(stateDict.Keys, Is.EqualTo(expected.Select(e => e.Name)));
            foreach (var entry in expected)
            {
                var tensor = stateDict[entry.Name];
                Assert.That(tensor.shape, Is.EqualTo(entry.Shape), entry.Name);
                Assert.That(tensor.device_type, Is.EqualTo(DeviceType.CPU), entry.Name);
                if (entry.DType == "float32")
                {
                    Assert.That(tensor.dtype, Is.EqualTo(ScalarType.Float32), entry.Name);
                    // Exact: the reader must convert (half, bfloat16, double) the way PyTorch's .float() does.
                    Assert.That(tensor.reshape(-1).data<float>().ToArray(),
                        Is.EqualTo(entry.Values.Select(v => (float)v).ToArray()), entry.Name);
                }
                else
                {
                    Assert.That(tensor.dtype, Is.EqualTo(ScalarType.Int64), entry.Name);
                    Assert.That(tensor.reshape(-1).data<long>().ToArray(),
                        Is.EqualTo(entry.Values.Select(v => (long)v).ToArray()), entry.Name);
                }
            }
        }
        finally
        {
            foreach (var t in stateDict.Values) t.Dispose();
        }
    }

    [TestCaseSource(nameof(Formats))]
    public void EntriesSharingAStorageComeBackAsIndependentTensors(string format)
    {
        var stateDict = PthFile.ReadStateDict(WeightsFixtures.File("views", format));
        float sameBefore = stateDict["same"][0, 0].item<float>();
        stateDict["base"].fill_(100f);
        Assert.Multiple(() =>
        {
            Assert.That(stateDict["same"][0, 0].item<float>(), Is.EqualTo(sameBefore));
            Assert.That(stateDict["transposed"].is_contiguous(), Is.True);
        });
    }

    private static IEnumerable<TestCaseData> Forbidden() =>
        from f in Formats
        from c in new[] { ("forbidden_call", "posix.getcwd"), ("forbidden_class", "__main__.CustomThing") }
        select new TestCaseData(c.Item1, f, c.Item2);

    [TestCaseSource(nameof(Forbidden))]
    public void RefusesPickledGlobalsOutsideTheAllowListByName(string @case, string format, string global)
    {
        string path = WeightsFixtures.File(@case, format);
        var e = Assert.Throws<ShiftBenchException>(() => PthFile.ReadStateDict(path));
        Assert.That(e!.Message, Does.Contain($"refuses pickled global '{global}'").And.Contain(path));
    }

    [TestCase("truncated_zip.pth")]
    [TestCase("truncated_legacy.pth")]
    [TestCase("garbage.pth")]
    public void BrokenFilesGiveOneErrorNamingTheFile(string name)
    {
        string path = WeightsFixtures.File(name);
        var e = Assert.Throws<ShiftBenchException>(() => PthFile.ReadStateDict(path));
        Assert.That(e!.Message, Does.Contain(path).And.Contain("truncated, corrupt"));
        Assert.That(e.Message, Does.Not.Contain("\n"));
    }

    [Test]
    public void LegacyFileCutInsideThePickleIsReportedToo()
    {
        string path = Path.Combine(Path.GetTempPath(), $"shiftbench-cut-{Guid.NewGuid():N}.pth");
        try
        {
            var bytes = File.ReadAllBytes(WeightsFixtures.File("tiny", "legacy"));
            File.WriteAllBytes(path, bytes[..(bytes.Length / 3)]);
            var e = Assert.Throws<ShiftBenchException>(() => PthFile.ReadStateDict(path));
            Assert.That(e!.Message, Does.Contain(path).And.Contain("file ends inside"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void MissingFileIsNamed()
    {
        string path = WeightsFixtures.File("no_such_file.pth");
        var e = Assert.Throws<ShiftBenchException>(() => PthFile.ReadStateDict(path));
        Assert.That(e!.Message, Does.Contain(path).And.Contain("does not exist"));
    }

    [Test]
    public void RazorvinesSharedConstructorTableIsRestoredAfterALoad()
    {
        // TorchSharp.PyBridge registers its own constructors in the same process-wide table.
        var sentinel = new SentinelConstructor();
        Unpickler.registerConstructor("collections", "OrderedDict", sentinel);
        try
        {
            foreach (var t in PthFile.ReadStateDict(WeightsFixtures.File("tiny", "zip")).Values) t.Dispose();
            // protocol 2: collections.OrderedDict()
            byte[] pickle = [0x80, 0x02, .."ccollections\nOrderedDict\n"u8, (byte)')', (byte)'R', (byte)'.'];
            using var unpickler = new Unpickler();
            Assert.That(unpickler.loads(pickle), Is.SameAs(SentinelConstructor.Made));
        }
        finally
        {
            TableAccess.Remove("collections.OrderedDict");
        }
    }

    [Test]
    public void WorksAlongsideTorchSharpPyBridgeInOneProcess()
    {
        // PyBridge's static constructor registers its own tensor/OrderedDict constructors process-wide.
        var bridged = TorchSharp.PyBridge.PyTorchUnpickler.UnpickleStateDict(WeightsFixtures.File("tiny", "zip"));
        Assert.That(bridged["0.weight"], Is.InstanceOf<Tensor>());

        var expected = WeightsFixtures.Entries("views").Single(e => e.Name == "col_slice");
        var stateDict = PthFile.ReadStateDict(WeightsFixtures.File("views", "zip"));
        Assert.That(stateDict["col_slice"].reshape(-1).data<float>().ToArray(),
            Is.EqualTo(expected.Values.Select(v => (float)v).ToArray()));

        var again = TorchSharp.PyBridge.PyTorchUnpickler.UnpickleStateDict(WeightsFixtures.File("tiny", "zip"));
        Assert.That(again["0.weight"], Is.InstanceOf<Tensor>());
    }

    private sealed class SentinelConstructor : IObjectConstructor
    {
        public static readonly object Made = new();
        public object construct(object[] args) => Made;
    }

    private sealed class TableAccess : Unpickler
    {
        public static void Remove(string name) => objectConstructors.Remove(name);
    }
}
