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

/// <summary>One metric of one layer for two named runs (see <see cref="Comparison.ComparePair"/>).</summary>
public sealed record PairRow(string Layer, string Metric, double Left, double Right)
{
    public double Difference => Right - Left;
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
    public static SummaryRecord? Summary(string runDir)
    {
        if (!RunLayout.IsComplete(runDir)) return null;
        return SummaryRecord.Read(runDir) ?? RunSummary.Write(runDir, RunSummary.ReadGeometry(runDir));
    }
}
