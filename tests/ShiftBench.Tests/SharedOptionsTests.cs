using System.CommandLine;
using ShiftBench.Cli.Commands;

namespace ShiftBench.Tests;

/// <summary>
/// An option several commands take is defined once (SharedOptions) and added to each: two commands never carry
/// separate definitions of the same option (same name and description), which would drift apart.
/// </summary>
[Category(TestTier.Fast)]
public class SharedOptionsTests
{
    static IEnumerable<(string Command, Option Option)> AllOptions(Command command, string path)
    {
        foreach (var option in command.Options) yield return (path, option);
        foreach (var sub in command.Subcommands)
            foreach (var pair in AllOptions(sub, $"{path} {sub.Name}")) yield return pair;
    }

    internal static List<string> RepeatedDefinitions(IEnumerable<(string Command, Option Option)> options) =>
        [.. options.Where(p => p.Option.Description is not null)
            .GroupBy(p => (p.Option.Name, p.Option.Description))
            .Where(g => g.Select(p => p.Option).Distinct().Count() > 1)
            .Select(g => $"{g.Key.Name} is defined {g.Select(p => p.Option).Distinct().Count()} times alike ({string.Join(", ", g.Select(p => p.Command).Distinct())}): define it once in SharedOptions")];

    [Test]
    public void EveryOptionTwoCommandsShareIsDefinedOnce()
    {
        var options = AllOptions(CliRoot.Create(), "shiftbench").ToList();
        Assert.That(options.Count(p => p.Option == SharedOptions.DataDir), Is.GreaterThanOrEqualTo(5), "--data-dir is shared by run, reproduce, bench, sweep, dataset render, fetch");
        Assert.That(RepeatedDefinitions(options), Is.Empty);
    }

    [Test]
    public void TheCheckFindsAnOptionDefinedTwice()
    {
        var first = new Option<string?>("--data-dir") { Description = "Folder of source images" };
        var copy = new Option<string?>("--data-dir") { Description = "Folder of source images" };
        var other = new Option<string?>("--data-dir") { Description = "Something else" };
        Assert.That(RepeatedDefinitions([("a", first), ("b", copy), ("c", other), ("d", first)]),
            Is.EqualTo(new[] { "--data-dir is defined 2 times alike (a, b, d): define it once in SharedOptions" }));
    }
}
