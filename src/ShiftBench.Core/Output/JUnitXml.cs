using System.Xml.Linq;

namespace ShiftBench.Output;

/// <summary>One test case of a JUnit report: passed when Failure is null.</summary>
public sealed record JUnitCase(string ClassName, string Name, string? Failure = null, string? Details = null);

/// <summary>
/// JUnit XML, the report format CI systems read (GitHub Actions test reporters, GitLab, Jenkins): one
/// &lt;testsuite&gt; of test cases, each with a &lt;failure&gt; when it failed. Written whole (temporary file, then rename).
/// </summary>
public static class JUnitXml
{
    public static void Write(string path, string suiteName, IReadOnlyList<JUnitCase> cases)
    {
        var failures = cases.Count(c => c.Failure is not null);
        var suite = new XElement("testsuite",
            new XAttribute("name", suiteName),
            new XAttribute("tests", cases.Count),
            new XAttribute("failures", failures),
            new XAttribute("errors", 0),
            new XAttribute("skipped", 0),
            new XAttribute("timestamp", DateTime.UtcNow.ToString("s")),
            cases.Select(c => new XElement("testcase",
                new XAttribute("classname", c.ClassName),
                new XAttribute("name", c.Name),
                c.Failure is null ? null : new XElement("failure", new XAttribute("message", c.Failure), c.Details ?? c.Failure),
                c.Failure is null && c.Details is not null ? new XElement("system-out", c.Details) : null)));
        var document = new XDocument(new XDeclaration("1.0", "utf-8", null),
            new XElement("testsuites", new XAttribute("name", suiteName), new XAttribute("tests", cases.Count), new XAttribute("failures", failures), suite));
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        AtomicFile.Write(path, tmp => document.Save(tmp));
    }
}
