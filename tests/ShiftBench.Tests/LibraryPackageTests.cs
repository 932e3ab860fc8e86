using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ShiftBench.Tests;

/// <summary>
/// docs/library.md's promise, for real: `dotnet pack` makes the ShiftBench.Core package, and the first ```csharp
/// block of that page builds as Program.cs of a console project that references only that package and
/// TorchSharp-cpu from local package folders (no network), runs, and prints the metrics `shiftbench run` computes.
/// </summary>
public class LibraryPackageTests
{
    static string LibraryDoc => Path.Combine(TestPaths.RepoRoot, "docs", "library.md");

    /// <summary>The first ```csharp block of docs/library.md.</summary>
    static string ProgramFromDocs()
    {
        var match = Regex.Match(File.ReadAllText(LibraryDoc), "```csharp\n(.*?)\n```", RegexOptions.Singleline);
        Assert.That(match.Success, $"{LibraryDoc} has no ```csharp block");
        return match.Groups[1].Value + "\n";
    }

    static (int Code, string Output) Run(string file, string workDir, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var info = new ProcessStartInfo(file) { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("SHIFTBENCH_", StringComparison.Ordinal)).ToList())
            info.Environment.Remove(name);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }

    static string GlobalPackagesFolder =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder
            ? folder
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    [Test]
    public void DocumentedProgramBuildsAgainstThePackageAndPrintsTheRunsMetrics()
    {
        using var temp = TestPaths.NewTempDir();
        // A version of its own, so the package cache never serves an older build of the library.
        string version = $"0.0.0-test{DateTime.UtcNow:yyyyMMddHHmmss}{Environment.ProcessId}";
        string packages = Path.Combine(temp, "packages"), app = Path.Combine(temp, "app");
        Directory.CreateDirectory(app);
        try
        {
            var pack = Run("dotnet", TestPaths.RepoRoot, null, "pack", Path.Combine(TestPaths.RepoRoot, "ShiftBench.sln"), "-c", "Release",
                "--no-build", "-o", packages, $"-p:Version={version}", "--nologo");
            Assert.That(pack.Code, Is.EqualTo(0), pack.Output);
            Assert.That(Directory.GetFiles(packages, "*.nupkg").Select(Path.GetFileName), Is.EqualTo(new[] { $"ShiftBench.Core.{version}.nupkg" }),
                "dotnet pack ShiftBench.sln makes the library package and nothing else");

            File.WriteAllText(Path.Combine(app, "app.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <Nullable>enable</Nullable>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="ShiftBench.Core" Version="{version}" />
                    <PackageReference Include="TorchSharp-cpu" Version="0.107.0" />
                  </ItemGroup>
                </Project>
                """);
            // Local folders only: the fresh package and the packages the repository's own restore brought.
            File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="shiftbench" value="{packages}" />
                    <add key="local" value="{GlobalPackagesFolder}" />
                  </packageSources>
                </configuration>
                """);
            File.WriteAllText(Path.Combine(app, "Program.cs"), ProgramFromDocs());
            var build = Run("dotnet", app, null, "build", "-c", "Release", "--nologo");
            Assert.That(build.Code, Is.EqualTo(0), build.Output);

            string tmp = Path.Combine(temp, "tmp");
            Directory.CreateDirectory(tmp);
            var program = Run("dotnet", app, new Dictionary<string, string> { ["SHIFTBENCH_DATA"] = TestPaths.DataDir, ["TMPDIR"] = tmp },
                Path.Combine(app, "bin", "Release", "net10.0", "app.dll"));
            Assert.That(program.Code, Is.EqualTo(0), program.Output);

            // The same experiment through the CLI: the program must print the metrics of that run.
            string cliOut = Path.Combine(temp, "cli");
            var cli = TestCli.Run("run", "--model", "alexnet", "--variant", "torchvision", "--weights", "deterministic", "--dataset", "berry",
                "--stride", "62", "--layers", "fc6,fc7", "--out", cliOut);
            Assert.That(cli.Code, Is.EqualTo(0), cli.Stderr);
            var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(cliOut, "berry", "alexnet", "torchvision", "summary.json")))!;
            foreach (var layer in new[] { "fc6", "fc7" })
            {
                var line = Regex.Match(program.Output, $@"^alexnet torchvision {layer}: global invariance (\S+)$", RegexOptions.Multiline);
                Assert.That(line.Success, $"the program printed no global invariance for {layer}:\n{program.Output}");
                Assert.That(double.Parse(line.Groups[1].Value, CultureInfo.InvariantCulture),
                    Is.EqualTo(summary["layers"]![layer]!["global"]!.GetValue<double>()).Within(1e-12), layer);
            }
        }
        finally
        {
            // The package cache keeps what a restore took; this test's version is of no use to anyone after it.
            string cached = Path.Combine(GlobalPackagesFolder, "shiftbench.core", version);
            if (Directory.Exists(cached)) Directory.Delete(cached, recursive: true);
        }
    }
}
