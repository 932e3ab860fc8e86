using System.IO.Enumeration;

namespace ShiftBench.Output;

/// <summary>
/// The one way ShiftBench walks a folder tree (runs, summaries, image folders): it never descends through a
/// symbolic link or other reparse point (OUT holding `usr -> /usr` or `self -> .` must neither scan the system nor
/// count a run twice) and skips folders it cannot read (`/proc/self`), instead of failing halfway.
/// </summary>
public static class FolderScan
{
    /// <summary>Files below root (any depth) whose name matches pattern (`*` and `?`), paths as Directory.EnumerateFiles gives them.</summary>
    public static IEnumerable<string> Files(string root, string pattern)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
        return new Walk(root, options, pattern);
    }

    sealed class Walk(string root, EnumerationOptions options, string pattern) : IEnumerable<string>
    {
        public IEnumerator<string> GetEnumerator() => new Walker(root, options, pattern);
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    sealed class Walker(string root, EnumerationOptions options, string pattern) : FileSystemEnumerator<string>(root, options)
    {
        protected override string TransformEntry(ref FileSystemEntry entry) => entry.ToSpecifiedFullPath();

        protected override bool ShouldIncludeEntry(ref FileSystemEntry entry) =>
            !entry.IsDirectory && FileSystemName.MatchesSimpleExpression(pattern, entry.FileName);

        protected override bool ShouldRecurseIntoEntry(ref FileSystemEntry entry) =>
            (entry.Attributes & FileAttributes.ReparsePoint) == 0;

        /// <summary>A folder that vanishes or refuses to be listed mid-walk (procfs, a run being deleted) is skipped.</summary>
        protected override bool ContinueOnError(int error) => true;
    }
}
