using System.Text.Json.Nodes;
using ShiftBench.Models;
using ShiftBench.Output;

namespace ShiftBench.Analysis;

/// <summary>One metric of one layer for every compared variant; a variant that was not run reads NaN.</summary>
public sealed record ComparisonRow(string Layer, string Metric, IReadOnlyDictionary<string, double> Values)
{
    public double Value(string variant) => Values.GetValueOrDefault(variant, double.NaN);
    public double Torchvision => Value(ModelVariant.Torchvision);
    public double Antialiased => Value(ModelVariant.Antialiased);
    /// <summary>antialiased - torchvision (the study's comparison).</summary>
    public double Difference => Antialiased - Torchvision;
}

/// <summary>Any two or more variants of one model and dataset, from each run's summary.json.</summary>
public static class Comparison
{
    /// <summary>
    /// The variants compared when none are named: torchvision and antialiased (shown as not run when
    /// missing), then every other variant folder holding a run, in the registry's order.
    /// </summary>
    public static IReadOnlyList<string> DefaultVariants(string outDir, string model, string dataset)
    {
        var variants = new List<string> { ModelVariant.Torchvision, ModelVariant.Antialiased };
        var present = RunLayout.CompleteVariants(outDir, dataset, model).Where(v => !variants.Contains(v)).ToList();
        var order = ModelRegistry.VariantNames.ToList();
        variants.AddRange(present.OrderBy(v => order.IndexOf(v) is var i && i >= 0 ? i : int.MaxValue).ThenBy(v => v, StringComparer.Ordinal));
        return variants;
    }

    public static IReadOnlyList<ComparisonRow> Compare(string outDir, string model, string dataset, IReadOnlyList<string>? variants = null)
    {
        variants ??= DefaultVariants(outDir, model, dataset);
        var summaries = variants.Distinct().Select(v => (Variant: v, Summary: Summary(RunLayout.RunDirectory(outDir, dataset, model, v)))).ToList();
        if (summaries.All(s => s.Summary is null))
            throw new ShiftBenchException($"no complete run of {model} on {dataset} under {outDir} ({string.Join(", ", variants)}): run `shiftbench run --model {model} --dataset {dataset} --out {outDir}` first");
        var values = summaries.Where(s => s.Summary is not null)
            .ToDictionary(s => s.Variant, s => RunSummary.Rows(s.Summary!).ToDictionary(r => (r.Layer, r.Metric), r => r.Value));
        return values.Values.SelectMany(v => v.Keys).Distinct()
            .Select(k => new ComparisonRow(k.Layer, k.Metric,
                values.Where(v => v.Value.ContainsKey(k)).ToDictionary(v => v.Key, v => v.Value[k])))
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
