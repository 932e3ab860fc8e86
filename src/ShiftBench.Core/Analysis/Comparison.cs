using System.Text.Json.Nodes;
using ShiftBench.Output;

namespace ShiftBench.Analysis;

/// <summary>One metric of one layer for both variants; a variant that was not run reads NaN.</summary>
public sealed record ComparisonRow(string Layer, string Metric, double Torchvision, double Antialiased)
{
    public double Difference => Antialiased - Torchvision;
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
