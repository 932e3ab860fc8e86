using System.Globalization;
using System.Text;
using ShiftBench.Models;
using ShiftBench.Output;

namespace ShiftBench.Analysis;

/// <summary>One point of a depth profile: a stage of one variant, the layer that holds it and the metric's value (NaN when undefined).</summary>
public sealed record ProfilePoint(string Stage, string Variant, string Layer, double Value);

/// <summary>
/// One run-summary metric (`global` by default) over a network's stages (<see cref="ZooLayers.StageLayers"/>: stem,
/// each stage, the named taps, fc), for every variant of the model whose run holds them (`run --layers stages`).
/// Variants are matched by stage name, since their module paths may differ.
/// </summary>
public sealed record DepthProfile(string Model, string Dataset, string Metric, IReadOnlyList<string> Stages, IReadOnlyList<string> Variants, IReadOnlyList<ProfilePoint> Points)
{
    public const string DefaultMetric = "global";

    public double Value(string stage, string variant) =>
        Points.FirstOrDefault(p => p.Stage == stage && p.Variant == variant)?.Value ?? double.NaN;

    /// <summary>
    /// The profile from the complete runs below outDir. variants null = every variant of the model with a run holding
    /// its stages, in registry order. Errors name the command that makes the missing runs.
    /// </summary>
    public static DepthProfile Collect(string outDir, string model, string dataset, string metric = DefaultMetric, IReadOnlyList<string>? variants = null)
    {
        var architecture = ModelRegistry.FindArchitecture(model);
        model = architecture.Name;
        var candidates = variants ?? ModelRegistry.VariantsOf(model);
        string hint = $"run `shiftbench run --model {model} --dataset {dataset} --variant VARIANT --layers stages --out {outDir}` first";
        var found = new List<(string Variant, IReadOnlyList<StageLayer> Stages, Dictionary<(string, string), double> Values)>();
        foreach (var variant in candidates)
        {
            var entry = ModelRegistry.Find(model, variant);
            var summary = Comparison.Summary(RunLayout.RunDirectory(outDir, dataset, model, entry.VariantName));
            if (summary is null)
            {
                if (variants is not null) throw new ShiftBenchException($"no complete run of {model} ({entry.VariantName}) on {dataset} below {outDir} (--variant): {hint.Replace("VARIANT", entry.VariantName)}");
                continue;
            }
            var values = RunSummary.Rows(summary).ToDictionary(r => (r.Layer, r.Metric), r => r.Value);
            var stages = ZooLayers.StageLayers(entry);
            var layers = values.Keys.Select(k => k.Item1).ToHashSet();
            if (!stages.All(s => layers.Contains(s.Layer)))
            {
                if (variants is not null)
                    throw new ShiftBenchException($"the run of {model} ({entry.VariantName}) on {dataset} below {outDir} lacks stages {string.Join(", ", stages.Where(s => !layers.Contains(s.Layer)).Select(s => s.Layer))}: {hint.Replace("VARIANT", entry.VariantName)}");
                continue;
            }
            found.Add((entry.VariantName, stages, values));
        }
        if (found.Count == 0)
            throw new ShiftBenchException($"no run of {model} on {dataset} below {outDir} has its stages (--model, --dataset): {hint.Replace("VARIANT", "both")}");
        if (!found.Any(f => f.Stages.Any(s => f.Values.ContainsKey((s.Layer, metric)))))
        {
            var known = found.SelectMany(f => f.Stages.SelectMany(s => f.Values.Keys.Where(k => k.Item1 == s.Layer).Select(k => k.Item2))).Distinct();
            throw new ShiftBenchException($"unknown metric '{metric}' (--metric): the stages have {string.Join(", ", known)}");
        }
        var points = found.SelectMany(f => f.Stages.Select(s => new ProfilePoint(s.Stage, f.Variant, s.Layer, f.Values.GetValueOrDefault((s.Layer, metric), double.NaN)))).ToList();
        return new DepthProfile(model, dataset, metric, [.. found[0].Stages.Select(s => s.Stage)], [.. found.Select(f => f.Variant)], points);
    }

    /// <summary>profile CSV: header `stage,variant,layer,METRIC`, one row per stage and variant, stages in forward order.</summary>
    public string ToCsv()
    {
        var text = new StringBuilder($"stage,variant,layer,{Metric}\n");
        foreach (var stage in Stages)
            foreach (var p in Points.Where(p => p.Stage == stage))
                text.Append(p.Stage).Append(',').Append(p.Variant).Append(',').Append(p.Layer).Append(',')
                    .Append(p.Value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        return text.ToString();
    }
}
