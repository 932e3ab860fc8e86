using NUnit.Framework;

namespace ShiftBench.Tests;

/// <summary>
/// Crafted weight files (tools/fixtures/make_hostile_weight_fixtures.py: real torch.save output with one
/// value made hostile) given to a real `shiftbench run`: each is refused in one line naming the file and
/// the fault, exit 2, before any tensor is allocated for it and before anything is written.
/// </summary>
public class HostileWeightsTests
{
    static string Fixture(string name) => Path.Combine(WeightsFixtures.Dir, "hostile", name);

    [TestCase("zero_strides_zip.pth", "tensor w (100000x100000)")]
    [TestCase("zero_strides_legacy.pth", "tensor w (100000x100000)")]
    [TestCase("huge_storage_zip.pth", "declares 1000000000000 elements")]
    [TestCase("huge_storage_legacy.pth", "1000000000000")]
    [TestCase("negative_storage_zip.pth", "storage size -6 is negative")]
    [TestCase("negative_storage_legacy.pth", "storage size -6 is negative")]
    [TestCase("pickle_bomb_zip.pth", "data.pkl declares 104857766 bytes")]
    public void CraftedWeightFileIsRefusedInOneLine(string file, string fault)
    {
        string outDir = Path.Combine(Path.GetTempPath(), "shiftbench-hostile-weights-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, stdout, stderr) = TestCli.Run("run", "--model", "alexnet", "--variant", "torchvision", "--dataset", "plane",
                "--weights", Fixture(file), "--offline", "--out", outDir);
            Assert.That(code, Is.EqualTo(2), stderr + stdout);
            var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.That(lines, Has.Length.EqualTo(1), stderr);
            Assert.That(lines[0], Does.StartWith("error: weight file ").And.Contain(file).And.Contain(fault));
            Assert.That(Directory.Exists(outDir) ? Directory.GetFiles(outDir, "*", SearchOption.AllDirectories) : [], Is.Empty,
                "nothing is written for a refused weight file");
        }
        finally
        {
            if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
        }
    }

    [Test]
    public void PickleBombIsRefusedEvenWhenItsHeaderUnderstatesTheSize()
    {
        // The same bomb with data.pkl's declared size rewritten to the real pickle's: only the bounded read stops it.
        string lying = Path.Combine(Path.GetTempPath(), $"shiftbench-lying-bomb-{Guid.NewGuid():N}.pth");
        try
        {
            byte[] bytes = File.ReadAllBytes(Fixture("pickle_bomb_zip.pth"));
            int patched = ZipSizes.Understate(bytes, "data.pkl", 100);
            Assert.That(patched, Is.EqualTo(2), "local header and central directory both rewritten");
            File.WriteAllBytes(lying, bytes);
            var (code, _, stderr) = TestCli.Run("run", "--model", "alexnet", "--variant", "torchvision", "--dataset", "plane",
                "--weights", lying, "--offline", "--out", Path.Combine(Path.GetTempPath(), "shiftbench-unused-" + Guid.NewGuid().ToString("N")));
            Assert.That(code, Is.EqualTo(2), stderr);
            Assert.That(stderr.Trim(), Does.StartWith("error: weight file ").And.Not.Contain("\n"));
        }
        finally
        {
            File.Delete(lying);
        }
    }
}

/// <summary>Rewrites the uncompressed size a zip file declares for an entry (for testing bounded reads).</summary>
internal static class ZipSizes
{
    /// <summary>Sets the uncompressed size of every record of the entry whose name ends with <paramref name="nameEnd"/>; returns how many were rewritten.</summary>
    public static int Understate(byte[] zip, string nameEnd, uint size)
    {
        int count = 0;
        for (int i = 0; i + 46 < zip.Length; i++)
        {
            uint signature = BitConverter.ToUInt32(zip, i);
            // Local header (PK\3\4): size at 22, name length at 26, name at 30. Central (PK\1\2): 24, 28, 46.
            (int sizeAt, int nameLengthAt, int nameAt) = signature switch
            {
                0x04034b50 => (22, 26, 30),
                0x02014b50 => (24, 28, 46),
                _ => (-1, 0, 0),
            };
            if (sizeAt < 0) continue;
            int nameLength = BitConverter.ToUInt16(zip, i + nameLengthAt);
            if (!System.Text.Encoding.ASCII.GetString(zip, i + nameAt, nameLength).EndsWith(nameEnd, StringComparison.Ordinal)) continue;
            BitConverter.GetBytes(size).CopyTo(zip, i + sizeAt);
            count++;
        }
        return count;
    }
}
