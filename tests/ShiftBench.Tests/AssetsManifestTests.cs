using ShiftBench.Assets;
using ShiftBench.Models;
using ShiftBench.Output;

namespace ShiftBench.Tests;

[Category(TestTier.Fast)]
public class AssetsManifestTests
{
    static string SharedData() =>
        Environment.GetEnvironmentVariable(AssetPaths.DataVariable) is { Length: > 0 } dir && Directory.Exists(dir)
            ? dir
            : throw new IgnoreException("SHIFTBENCH_DATA is not set to the folder with the study's images");

    [Test]
    public void EveryRegisteredModelHasItsWeightsInTheManifest()
    {
        var weights = AssetManifest.BuiltIn.Entries.Where(e => e.Kind == AssetKind.Weights).ToList();
        Assert.That(weights.Select(e => e.FileName), Is.EquivalentTo(ModelRegistry.All.Select(m => m.FileName).Distinct()));
        Assert.That(weights, Has.Count.EqualTo(23 + 23 + 9 * 4), "23 torchvision files, 23 fine-tuned, 9 x 4 filter sizes from scratch");
        foreach (var model in ModelRegistry.All)
        {
            var entry = AssetManifest.BuiltIn.Find(model.FileName)!;
            Assert.That((entry.Url, entry.Sha256), Is.EqualTo((model.Url, model.Sha256Prefix)), model.FileName);
            Assert.That(entry.Url, Does.EndWith("/" + model.FileName));
        }
    }

    [Test]
    public async Task TheStudyImagesInTheManifestMatchTheSharedCopies()
    {
        string dir = SharedData();
        var images = AssetManifest.BuiltIn.Entries.Where(e => e.Kind == AssetKind.Data).ToList();
        Assert.That(images.Select(e => e.FileName), Is.EquivalentTo(new[] { "berry_transparent.png", "plane.png" }));
        foreach (var image in images)
        {
            string file = Path.Combine(dir, image.FileName);
            Assert.That(image.IsFullHash, image.FileName);
            Assert.That(image.Matches(await FileHash.Sha256Async(file)), image.FileName);
            Assert.That(image.Size, Is.EqualTo(new FileInfo(file).Length), image.FileName);
            Assert.That(image.Url, Is.EqualTo("https://jakehlee.github.io/interactive-invariance/data/images/" + image.FileName));
        }
    }

    [Test]
    public void SelectPicksAModelsWeightsInTheAskedVariantsAndTheDatasetsKnownFiles()
    {
        var manifest = AssetManifest.BuiltIn;
        var vgg = manifest.Select("VGG16", AssetManifest.ParseVariants("both"), ["plane.png", "my_own_photo.png"]);
        var expectedWeights = new[] { "vgg16-397923af.pth", "vgg16_lpf5-1391f70c.pth" };
        Assert.That(vgg.Select(e => e.FileName), Is.EqualTo(expectedWeights.Append("plane.png")));

        var torchvisionOnly = manifest.Select(null, AssetManifest.ParseVariants("torchvision"));
        Assert.That(torchvisionOnly.Select(e => e.FileName),
            Is.EqualTo(ModelRegistry.All.Where(m => m.Variant == ModelVariant.Torchvision).Select(m => m.FileName)));

        var allVgg11 = manifest.Select("vgg11", AssetManifest.ParseVariants("all", "vgg11"));
        Assert.That(allVgg11.Select(e => e.FileName), Is.EqualTo(new[] { "vgg11-8a719046.pth", "vgg11_lpf4_finetune-35eab449.pth" }));
        Assert.That(allVgg11[1].Licence, Does.StartWith("CC BY-NC-SA 4.0"));

        Assert.That(manifest.Select(null, null, ["berry_transparent.png"]).Single().Kind, Is.EqualTo(AssetKind.Data));
    }

    [Test]
    public void UnknownModelsAndVariantsAreUserErrors()
    {
        var error = Assert.Throws<ShiftBenchException>(() => AssetManifest.BuiltIn.Select("lenet", null));
        Assert.That(error!.Message, Does.Contain("lenet").And.Contain("--model").And.Contain("resnet50"));
        Assert.That(() => AssetManifest.ParseVariants("blurry"), Throws.TypeOf<ShiftBenchException>().With.Message.Contain("--variant"));
    }

    [Test]
    public void TheStudyConfigsNameTheirSourceImages()
    {
        string repo = AssetPaths.FindRepoRoot(TestContext.CurrentContext.TestDirectory);
        Assert.That(DatasetSourceFiles.Read(DatasetSourceFiles.ConfigPath("berry", repo)), Is.EqualTo(new[] { "berry_transparent.png" }));
        Assert.That(DatasetSourceFiles.Read(DatasetSourceFiles.ConfigPath("plane", repo)), Is.EqualTo(new[] { "plane.png" }));
        Assert.That(() => DatasetSourceFiles.Read(DatasetSourceFiles.ConfigPath("nosuch", repo)),
            Throws.TypeOf<ShiftBenchException>().With.Message.Contain("nosuch.yaml"));
    }

    [Test]
    public void AMirrorKeepsThePublishedFileName()
    {
        var entry = new AssetEntry("x.pth", "https://host/a/b/x.pth", "0123abcd", null, "test", AssetKind.Weights);
        Assert.That(entry.UrlVia("http://m/c"), Is.EqualTo("http://m/c/x.pth"));
        Assert.That(entry.UrlVia("http://m/c/"), Is.EqualTo("http://m/c/x.pth"));
        Assert.That(entry.UrlVia(null), Is.EqualTo(entry.Url));
    }

    [Test]
    public void AHashPrefixMatchesOnlyItsOwnBeginning()
    {
        var entry = new AssetEntry("x.pth", "https://host/x.pth", "0123abcd", null, "test", AssetKind.Weights);
        Assert.That(entry.Matches("0123abcd" + new string('f', 56)), Is.True);
        Assert.That(entry.Matches("0123abce" + new string('f', 56)), Is.False);
    }
}

[Category(TestTier.Fast)]
public class AssetsPathsTests
{
    string root = null!;

    [SetUp]
    public void SetUp() => root = Directory.CreateTempSubdirectory("shiftbench-paths-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(root, recursive: true);

    static Func<string, string?> Env(params (string Name, string Value)[] vars) =>
        name => vars.FirstOrDefault(v => v.Name == name).Value;

    [Test]
    public void DefaultsAreUnderTheRepositoryRootFoundUpwards()
    {
        File.WriteAllText(Path.Combine(root, "ShiftBench.sln"), "");
        string deep = Directory.CreateDirectory(Path.Combine(root, "a", "b")).FullName;

        var paths = AssetPaths.Resolve(currentDir: deep, environment: Env());

        Assert.That(paths, Is.EqualTo(new AssetPaths(Path.Combine(root, "weights"), Path.Combine(root, "data"))));
    }

    [Test]
    public void WithoutARepositoryTheCurrentDirectoryIsTheRoot()
    {
        var paths = AssetPaths.Resolve(currentDir: root, environment: Env());
        Assert.That(paths, Is.EqualTo(new AssetPaths(Path.Combine(root, "weights"), Path.Combine(root, "data"))));
    }

    [Test]
    public void VariablesBeatDefaultsAndOptionsBeatVariables()
    {
        var env = Env((AssetPaths.WeightsVariable, "/env/w"), (AssetPaths.DataVariable, "/env/d"));
        Assert.That(AssetPaths.Resolve(currentDir: root, environment: env), Is.EqualTo(new AssetPaths("/env/w", "/env/d")));
        Assert.That(AssetPaths.Resolve("opt-w", null, currentDir: root, environment: env),
            Is.EqualTo(new AssetPaths(Path.Combine(root, "opt-w"), "/env/d")), "relative options resolve against the current directory");
    }

    [Test]
    public void OfflineAndMirrorComeFromTheEnvironment()
    {
        var paths = new AssetPaths("/w", "/d");
        var on = FetchOptions.FromEnvironment(paths, environment: Env((FetchOptions.OfflineVariable, "1"), (FetchOptions.MirrorVariable, "http://m/")));
        Assert.That((on.Offline, on.MirrorBaseUrl), Is.EqualTo((true, "http://m/")));
        var off = FetchOptions.FromEnvironment(paths, environment: Env((FetchOptions.OfflineVariable, "0")));
        Assert.That((off.Offline, off.MirrorBaseUrl), Is.EqualTo((false, (string?)null)));
        Assert.That(FetchOptions.FromEnvironment(paths, offline: true, environment: Env()).Offline, Is.True);
    }
}
