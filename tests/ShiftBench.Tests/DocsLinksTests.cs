using System.Text.RegularExpressions;
using ShiftBench.Cli.Commands;

namespace ShiftBench.Tests;

/// <summary>README.md and docs/*.md: every relative link reaches a file (and a heading, when it names one); the README stays short.</summary>
public partial class DocsLinksTests
{
    const int ReadmeMaxBytes = 12_000;

    static IEnumerable<string> Pages() =>
        [Path.Combine(TestPaths.RepoRoot, "README.md"), .. Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "docs"), "*.md").Order(StringComparer.Ordinal)];

    [GeneratedRegex(@"!?\[[^\]]*\]\(([^)\s]+)\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"^#{1,6} +(.+?) *$", RegexOptions.Multiline)]
    private static partial Regex Heading();

    [GeneratedRegex("```.*?```", RegexOptions.Singleline)]
    private static partial Regex CodeBlock();

    static IEnumerable<string> LinkTargets(string markdown) =>
        Link().Matches(CodeBlock().Replace(markdown, "")).Select(m => m.Groups[1].Value)
            .Where(t => !t.Contains("://", StringComparison.Ordinal) && !t.StartsWith("mailto:", StringComparison.Ordinal));

    static HashSet<string> Anchors(string markdown) =>
        [.. Heading().Matches(CodeBlock().Replace(markdown, "")).Select(m => CliReference.Anchor(m.Groups[1].Value))];

    [Test]
    public void RelativeLinksResolve()
    {
        var broken = new List<string>();
        int checkedLinks = 0;
        foreach (string page in Pages())
        {
            string text = File.ReadAllText(page);
            foreach (string target in LinkTargets(text))
            {
                checkedLinks++;
                int hash = target.IndexOf('#');
                string file = hash < 0 ? target : target[..hash];
                string? fragment = hash < 0 ? null : target[(hash + 1)..];
                string resolved = file.Length == 0 ? page : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, Uri.UnescapeDataString(file)));
                string where = $"{Path.GetRelativePath(TestPaths.RepoRoot, page)}: {target}";
                if (!File.Exists(resolved) && !Directory.Exists(resolved)) broken.Add($"{where} (no such file)");
                else if (fragment is not null && resolved.EndsWith(".md", StringComparison.Ordinal) && !Anchors(File.ReadAllText(resolved)).Contains(fragment))
                    broken.Add($"{where} (no such heading)");
            }
        }
        Assert.That(checkedLinks, Is.GreaterThan(20), "the README and docs/ link to each other");
        Assert.That(broken, Is.Empty, "broken links:\n" + string.Join("\n", broken));
    }

    [Test]
    public void ReadmeIsShortAndOpensWithTheTwoCommands()
    {
        string readme = Path.Combine(TestPaths.RepoRoot, "README.md");
        Assert.That(new FileInfo(readme).Length, Is.LessThanOrEqualTo(ReadmeMaxBytes), "README.md is for reading: move details into docs/");
        string firstBlock = CodeBlock().Match(File.ReadAllText(readme)).Value;
        Assert.That(firstBlock, Does.Contain("./shiftbench run --model resnet50 --dataset plane").And.Contain("./test.sh"));
    }

    [Test]
    public void AnchorsFollowGitHub()
    {
        Assert.That(CliReference.Anchor("shiftbench figure pair"), Is.EqualTo("shiftbench-figure-pair"));
        Assert.That(CliReference.Anchor("Exact reuse across positions (`--reuse auto|on|off`)"), Is.EqualTo("exact-reuse-across-positions---reuse-autoonoff"));
        Assert.That(CliReference.Anchor("Precision: bf16"), Is.EqualTo("precision-bf16"));
    }
}
