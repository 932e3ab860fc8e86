using ShiftBench.Runs;

namespace ShiftBench.Tests;

/// <summary>The typed job records (Runs/JobRecords.cs): written and read back alike, earlier files read or refused by version, damage named.</summary>
public class JobRecordTests
{
    [Test]
    public void RecordsRoundTrip()
    {
        using var dir = TestPaths.NewTempDir();
        var progress = new JobProgress("0123456789abcdef", 8, 25, 4, 1.25);
        progress.Write(dir);
        Assert.That(JobProgress.Read(dir), Is.EqualTo(progress));
        Assert.That(File.ReadAllText(Path.Combine(dir, JobProgress.FileName)), Does.Contain("\"schema_version\": 1").And.Contain("\"batch_size\": 4"));

        var manifest = new ShardManifest("0123456789abcdef", 4, 12, 24, 3.5,
            [new ShardFile("features-fc7.npy", 49280, new string('a', 64)), new ShardFile("args.json", 300, new string('b', 64))]);
        manifest.Write(dir);
        var readManifest = ShardManifest.Read(dir)!;
        Assert.That(readManifest.Files, Is.EqualTo(manifest.Files));
        Assert.That(readManifest with { Files = manifest.Files }, Is.EqualTo(manifest));

        var commit = new CommitRecord("0123456789abcdef", [new CommitMove(".partial/staging/a.csv", "a.csv"), new CommitMove(".partial/staging/run.json", "run.json")]);
        commit.Write(dir);
        var readCommit = CommitRecord.Read(dir)!;
        Assert.That(readCommit.Moves, Is.EqualTo(commit.Moves));
        Assert.That(readCommit with { Moves = commit.Moves }, Is.EqualTo(commit));
        Assert.That(JobProgress.Read(Path.Combine(dir, "nowhere")), Is.Null, "no file, no record");
    }

    [TestCase("{\"fingerprint\":\"ab\",\"done\":8,\"end\":25,\"batch_size\":4,\"seconds\":1.5}", 8, 25, 4, TestName = "Schema0RunOrShardProgressIsRead")]
    [TestCase("{\"fingerprint\":\"ab\",\"next\":6,\"end\":10,\"batch_size\":2}", 6, 10, 2, TestName = "Schema0ConsistencyProgressIsRead")]
    public void EarlierProgressFilesAreRead(string json, int next, int end, int batch)
    {
        using var dir = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(dir, JobProgress.FileName), json);
        var read = JobProgress.Read(dir)!;
        Assert.That((read.SchemaVersion, read.Fingerprint, read.Next, read.End, read.BatchSize), Is.EqualTo((0, "ab", next, end, batch)));
    }

    [TestCase("{\"schema_version\":2,\"fingerprint\":\"ab\",\"next\":8}", "has schema_version 2, which this shiftbench does not read (it reads 1 and files without schema_version): it was written by a newer shiftbench")]
    [TestCase("{\"fingerprint\":\"ab\",\"do", "is damaged")]
    [TestCase("{\"schema_version\":1,\"fingerprint\":\"ab\",\"end\":8,\"batch_size\":4,\"seconds\":0}", "is damaged", TestName = "AMissingFieldIsDamageNotZero")]
    [TestCase("[1,2]", "is damaged (not a JSON object)")]
    public void OtherProgressFilesAreRefusedNamingTheFile(string json, string expected)
    {
        using var dir = TestPaths.NewTempDir();
        string path = Path.Combine(dir, JobProgress.FileName);
        File.WriteAllText(path, json);
        var error = Assert.Throws<JobRecordException>(() => JobProgress.Read(dir))!;
        Assert.That(error.Message, Does.StartWith(path + " ").And.Contain(expected));
        Assert.That(error.Message, Does.Not.Contain("\n"));
        Assert.That(Assert.Throws<ShiftBenchException>(() => JobProgress.ReadToResume(dir))!.Message, Does.EndWith("run without --resume to start again"));
    }

    [Test]
    public void AManifestWithoutSchemaVersionIsRefused()
    {
        using var dir = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(dir, ShardManifest.FileName), "{\"fingerprint\":\"ab\",\"batch_size\":4,\"begin\":0,\"end\":4,\"seconds\":0,\"files\":[]}");
        Assert.That(Assert.Throws<JobRecordException>(() => ShardManifest.Read(dir))!.Message, Does.Contain("has schema_version 0, which this shiftbench does not read (it reads 1)"));
    }
}
