using System.Text.Json.Nodes;
using ShiftBench.Output;

namespace ShiftBench.Analysis;

/// <summary>One metric of one layer for both variants; a variant that was not run reads NaN.</summary>
public sealed record ComparisonRow(string Layer, string Metric, double Torchvision, double Antialiased)
{
    public double Difference => Antialiased - Torchvision;
}

/// <summary>One metric of one layer for two named runs (see <see cref="Comparison.ComparePair"/>).</summary>
public sealed record PairRow(string Layer, string Metric, double Left, double Right)
{
    public double Difference => Right - Left;
}

/// <summary>torchvision vs antialiased for one model and dataset, from each run's summary.json.</summary>
public static class Comparison
{
    public static IReadOnlyList<ComparisonRow> Compare(string outDir, string model, string dataset)
    {
        var tv = Summary(RunLayout.RunDirectory(outDir, dataset, model, "torchvision"));
        var aa = Summary(RunLayout.RunDirectory(outDir, dataset, model, "antialiased"));
        if (tv is null && aa is null)
            throw new ShiftBenchException($"no complete run of {model} on {dataset} under {outDir}: run `shiftbench run --model {model} --dataset {dataset} --out {outDir}` first");
        var tvRows = tv is null ? [] : RunSummary.Rows(tv).ToDictionary(r => (r.Layer, r.Metric), r => r.Value);
        var aaRows = aa is null ? [] : RunSummary.Rows(aa).ToDictionary(r => (r.Layer, r.Metric), r => r.Value);
        return tvRows.Keys.Concat(aaRows.Keys).Distinct()
            .Select(k => new ComparisonRow(k.Layer, k.Metric, tvRows.GetValueOrDefault(k, double.NaN), aaRows.GetValueOrDefault(k, double.NaN)))
            .ToList();
    }

    /// <summary>
    /// Any two runs of one dataset side by side, each named MODEL/VARIANT (e.g. alexnet/torchvision and
    /// my_net/onnx): every (layer, metric) of either, NaN where a run lacks it.
    /// </summary>
    public static IReadOnlyList<PairRow> ComparePair(string outDir, string dataset, string left, string right)
    {
        var runs = new[] { left, right }.Select(name =>
        {
            var (model, variant) = ParseRun(name);
            string dir = RunLayout.RunDirectory(outDir, dataset, model, variant);
            return Summary(dir) is { } summary ? RunSummary.Rows(summary).ToDictionary(r => (r.Layer, r.Metric), r => r.Value)
                : throw new ShiftBenchException($"no complete run {name} on {dataset} under {outDir} ({dir}): run it first, or check --pair");
        }).ToList();
        return runs[0].Keys.Concat(runs[1].Keys).Distinct()
            .Select(k => new PairRow(k.Layer, k.Metric, runs[0].GetValueOrDefault(k, double.NaN), runs[1].GetValueOrDefault(k, double.NaN)))
            .ToList();
    }

    /// <summary>MODEL/VARIANT -> (model, variant); a user error unless exactly two non-empty parts.</summary>
    public static (string Model, string Variant) ParseRun(string name)
    {
        var parts = name.Split('/');
        if (parts.Length != 2 || parts.Any(p => p.Length == 0 || p is "." or ".."))
            throw new ShiftBenchException($"run '{name}' (--pair): write MODEL/VARIANT, e.g. alexnet/torchvision or my_net/onnx");
        return (parts[0], parts[1]);
    }

    /// <summary>
    /// Gates (see <see cref="Gate"/>) over the runs of one model on one dataset: variants are those with a complete
    /// run, the model and dataset are fixed. Also one JUnit case per complete variant run.
    /// </summary>
    public static (IReadOnlyList<GateResult> Gates, IReadOnlyList<JUnitCase> Cases) CheckGates(string outDir, string model, string dataset, IReadOnlyList<string> gateTexts)
    {
        var variants = RunLayout.CompleteVariants(outDir, dataset, model);
        var gates = gateTexts.Select(g => Gate.Parse(g, [model], [dataset], variants, "--gate")).ToList();
        int stride = variants.Count > 0 ? RunSummary.ReadGeometry(RunLayout.RunDirectory(outDir, dataset, model, variants[0])).Stride : 0;
        var results = gates.SelectMany(g => g.Evaluate([(model, dataset, stride)],
            (m, d, _, variant) => Summary(RunLayout.RunDirectory(outDir, d, m, variant)))).ToList();
        var cases = variants.Select(v => new JUnitCase("shiftbench.compare.runs", $"{model}/{v}/{dataset}"))
            .Concat(results.Select(r => new JUnitCase("shiftbench.compare.gates", r.Name, r.Passed ? null : r.Detail, r.Detail)))
            .ToList();
        return (results, cases);
    }

    /// <summary>The run's summary.json, computed now for a complete run that has none; null when not run.</summary>
    public static JsonNode? Summary(string runDir)
    {
        if (!RunLayout.IsComplete(runDir)) return null;
        string path = Path.Combine(runDir, RunLayout.SummaryJson);
        return File.Exists(path)
            ? JsonNode.Parse(File.ReadAllText(path))
            : RunSummary.Write(runDir, RunSummary.ReadGeometry(runDir));
    }
}
