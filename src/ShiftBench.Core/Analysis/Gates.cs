using System.Globalization;

namespace ShiftBench.Analysis;

/// <summary>A metric of one run's summary: [model.][dataset.]variant.layer.metric (the metric may hold a dot: c.mean).</summary>
public sealed record MetricRef(string? Model, string? Dataset, string Variant, string Layer, string Metric)
{
    public string Resolved(string model, string dataset) => $"{Model ?? model}.{Dataset ?? dataset}.{Variant}.{Layer}.{Metric}";
}

/// <summary>One side of a gate: a number or a metric.</summary>
public sealed record GateOperand(double? Number, MetricRef? Metric);

/// <summary>The outcome of one gate in one scope (model, dataset, stride), with the values it compared.</summary>
public sealed record GateResult(string Gate, string Scope, bool Passed, string Detail)
{
    public string Name => $"{Gate} [{Scope}]";
}

/// <summary>
/// A CI gate over run summaries: `LEFT OP RIGHT` with OP one of &gt;= &lt;= &gt; &lt; == !=, each side a number or
/// a metric `[model.][dataset.]variant.layer.metric`, e.g. `antialiased.fc.global &gt;= torchvision.fc.global` or
/// `resnet50.antialiased.class.accuracy &gt;= 0.9`. A side that names no model or dataset takes them from the scope,
/// so a gate is checked for every model x dataset x stride of a sweep that it does not pin down.
/// </summary>
public sealed record Gate(string Text, GateOperand Left, string Operator, GateOperand Right)
{
    static readonly string[] Operators = [">=", "<=", "==", "!=", ">", "<"];

    /// <summary>Parses a gate; model, dataset and variant names are recognised from the given lists.</summary>
    public static Gate Parse(string text, IReadOnlyCollection<string> models, IReadOnlyCollection<string> datasets, IReadOnlyCollection<string> variants, string where)
    {
        foreach (var op in Operators)
        {
            int at = text.IndexOf(op, StringComparison.Ordinal);
            if (at < 0) continue;
            var left = Operand(text[..at].Trim());
            var right = Operand(text[(at + op.Length)..].Trim());
            if (left.Metric is null && right.Metric is null)
                throw new ShiftBenchException($"{where}: gate \"{text}\" compares two numbers; name a metric such as antialiased.fc.global");
            return new Gate(text.Trim(), left, op, right);
        }
        throw new ShiftBenchException($"{where}: gate \"{text}\" has no comparison; write LEFT OP RIGHT with OP one of {string.Join(" ", Operators)}");

        GateOperand Operand(string side)
        {
            if (double.TryParse(side, NumberStyles.Float, CultureInfo.InvariantCulture, out double number)) return new(number, null);
            var parts = side.Split('.');
            int i = 0;
            string? model = i < parts.Length && models.Contains(parts[i]) ? parts[i++] : null;
            string? dataset = i < parts.Length && datasets.Contains(parts[i]) ? parts[i++] : null;
            if (i >= parts.Length || !variants.Contains(parts[i]))
                throw new ShiftBenchException($"{where}: gate \"{text}\": \"{side}\" is not a number or [model.][dataset.]variant.layer.metric " +
                    $"(variants: {string.Join(", ", variants)}; models: {string.Join(", ", models)}; datasets: {string.Join(", ", datasets)})");
            string variant = parts[i++];
            if (parts.Length - i < 2)
                throw new ShiftBenchException($"{where}: gate \"{text}\": \"{side}\" needs a layer and a metric after the variant, e.g. {variant}.fc.global");
            return new(null, new MetricRef(model, dataset, variant, parts[i], string.Join('.', parts[(i + 1)..])));
        }
    }

    /// <summary>
    /// Checks the gate in every scope (model, dataset, stride); scopes that resolve to the same metrics are checked
    /// once. summaryOf returns a run's summary.json, or null when that run is not complete. A missing run or metric
    /// fails the gate (it cannot be vouched for).
    /// </summary>
    public IEnumerable<GateResult> Evaluate(IEnumerable<(string Model, string Dataset, int Stride)> scopes,
        Func<string, string, int, string, Output.SummaryRecord?> summaryOf)
    {
        var seen = new HashSet<string>();
        foreach (var (model, dataset, stride) in scopes)
        {
            string key = $"{Describe(Left, model, dataset)} {Describe(Right, model, dataset)} {stride}";
            if (!seen.Add(key)) continue;
            string scope = $"{Left.Metric?.Model ?? Right.Metric?.Model ?? model}/{Left.Metric?.Dataset ?? Right.Metric?.Dataset ?? dataset}/stride-{stride}";
            var (l, lMissing) = Value(Left, model, dataset, stride, summaryOf);
            var (r, rMissing) = Value(Right, model, dataset, stride, summaryOf);
            if ((lMissing ?? rMissing) is { } missing)
            {
                yield return new GateResult(Text, scope, false, missing);
                continue;
            }
            bool passed = Operator switch
            {
                ">=" => l >= r, "<=" => l <= r, ">" => l > r, "<" => l < r, "==" => l == r, _ => l != r,
            };
            yield return new GateResult(Text, scope, passed, $"{F(l)} {Operator} {F(r)} is {(passed ? "true" : "false")}");
        }
    }

    static string Describe(GateOperand side, string model, string dataset) =>
        side.Metric?.Resolved(model, dataset) ?? side.Number!.Value.ToString("R", CultureInfo.InvariantCulture);

    static (double Value, string? Missing) Value(GateOperand side, string model, string dataset, int stride,
        Func<string, string, int, string, Output.SummaryRecord?> summaryOf)
    {
        if (side.Metric is not { } m) return (side.Number!.Value, null);
        string runModel = m.Model ?? model, runDataset = m.Dataset ?? dataset;
        var summary = summaryOf(runModel, runDataset, stride, m.Variant);
        if (summary is null) return (double.NaN, $"no complete run of {runModel} ({m.Variant}) on {runDataset} at stride {stride}");
        var row = RunSummary.Rows(summary).Where(r => r.Layer == m.Layer && r.Metric == m.Metric).Select(r => (double?)r.Value).FirstOrDefault();
        if (row is not { } value) return (double.NaN, $"{runModel} ({m.Variant}) on {runDataset} has no metric {m.Layer}.{m.Metric}");
        if (double.IsNaN(value)) return (double.NaN, $"{runModel} ({m.Variant}) on {runDataset}: {m.Layer}.{m.Metric} is undefined (null)");
        return (value, null);
    }

    static string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
}
