using System.CommandLine;
using ShiftBench.Cli.Commands;

namespace ShiftBench.Tests;

/// <summary>docs/cli.md is the CLI's reference, generated from its command tree; it must never fall behind.</summary>
public class CliDocsTests
{
    static string CommittedPath => Path.Combine(TestPaths.RepoRoot, "docs", "cli.md");

    [Test]
    public void CommittedReferenceEqualsTheCommandTree()
    {
        string expected = CliReference.Render(CliRoot.Create());
        Assert.That(File.Exists(CommittedPath), Is.True, "docs/cli.md is missing: run tools/cli-docs.sh");
        string committed = File.ReadAllText(CommittedPath);
        if (committed != expected)
        {
            var (a, b) = (committed.Split('\n'), expected.Split('\n'));
            int line = Enumerable.Range(0, Math.Min(a.Length, b.Length)).FirstOrDefault(i => a[i] != b[i], Math.Min(a.Length, b.Length));
            Assert.Fail($"docs/cli.md is stale: run tools/cli-docs.sh (first difference at line {line + 1}: committed \"{(line < a.Length ? a[line] : "<end>")}\", CLI \"{(line < b.Length ? b[line] : "<end>")}\")");
        }
    }

    [Test]
    public void ReferenceNamesEveryVisibleCommandAndOption()
    {
        var root = CliRoot.Create();
        string doc = CliReference.Render(root);
        var commands = new List<(string Path, Command Command)>();
        void Walk(Command c, string path) { foreach (var s in c.Subcommands.Where(s => !s.Hidden)) { commands.Add(($"{path} {s.Name}", s)); Walk(s, $"{path} {s.Name}"); } }
        Walk(root, "shiftbench");
        Assert.That(commands, Has.Count.GreaterThanOrEqualTo(15), "the tree has run, figure pair, dataset show, ...");
        foreach (var (path, command) in commands)
        {
            int start = doc.IndexOf($"\n## {path}\n", StringComparison.Ordinal);
            Assert.That(start, Is.GreaterThan(0), $"no section for {path}");
            int end = doc.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
            string section = end < 0 ? doc[start..] : doc[start..end];
            foreach (var option in command.Options.Where(o => !o.Hidden))
                Assert.That(section, Does.Contain($"| `{option.Name}"), $"{path}: option {option.Name} missing");
            foreach (var argument in command.Arguments)
                Assert.That(section, Does.Contain($"| `{argument.Name}` |"), $"{path}: argument {argument.Name} missing");
        }
        Assert.That(doc, Does.Not.Contain($"shiftbench {CliReference.CommandName}"), "the hidden generator command is not documented");
    }

    [Test]
    public void HiddenCommandPrintsTheSameReference()
    {
        var (code, stdout, stderr) = TestCli.Run(CliReference.CommandName);
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stdout, Is.EqualTo(CliReference.Render(CliRoot.Create())));
    }
}
