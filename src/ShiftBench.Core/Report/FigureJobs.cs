namespace ShiftBench.Report;

/// <summary>The `shiftbench figure` jobs: pick runs and grids from an output folder and draw them with <see cref="Figures"/>.</summary>
public static class FigureJobs
{
    /// <summary>The study's pair, the default panels of `figure pair`.</summary>
    public static readonly string[] Variants = ["torchvision", "antialiased"];

    /// <summary>
    /// One panel per variant (default torchvision | antialiased; any two or more) for one model, dataset,
    /// layer and anchor, on one colour scale. Returns the files written.
    /// </summary>
    public static IReadOnlyList<string> Pair(string outDir, string model, string dataset, string layer, string? anchor,
        string? outFile, double? vmin = null, double vmax = 1.0, IReadOnlyList<string>? variants = null)
    {
        var names = variants is { Count: > 0 } ? variants : Variants;
        var runs = RunsOf(outDir, dataset);
        if (!runs.Any(r => r.Model == model))
            throw new ShiftBenchException($"no run of model '{model}' on dataset '{dataset}' below '{outDir}' (--model): runs found: {string.Join(", ", runs.Select(r => r.Model).Distinct())}");
        anchor = CheckLayerAnchor(runs.Where(r => r.Model == model), layer, anchor);
        var panels = new FigurePanel?[1, names.Count];
        for (int c = 0; c < names.Count; c++)
            panels[0, c] = Panel(runs.FirstOrDefault(r => r.Model == model && r.Variant == names[c]), layer, anchor, names[c]);
        string title = anchor is null ? $"{model} · {layer} · {dataset}" : $"{model} · {layer} · anchor {anchor}{AnchorText(runs, layer, anchor)} · {dataset}";
        string stem = $"pair-{dataset}-{model}-{layer}" + (anchor is null ? "" : $"-{anchor}") + (names.SequenceEqual(Variants) ? "" : "-" + string.Join("-", names));
        return Write(outDir, outFile, stem, title, panels, vmin, vmax, layer, null);
    }

    /// <summary>Any two runs of one dataset side by side, each MODEL/VARIANT (an ONNX network beside a zoo variant, say).</summary>
    public static IReadOnlyList<string> PairOf(string outDir, string left, string right, string dataset, string layer, string? anchor,
        string? outFile, double? vmin = null, double vmax = 1.0)
    {
        var runs = RunsOf(outDir, dataset);
        var chosen = new[] { left, right }.Select(name =>
        {
            var (model, variant) = Analysis.Comparison.ParseRun(name);
            return runs.FirstOrDefault(r => r.Model == model && r.Variant == variant)
                ?? throw new ShiftBenchException($"no run {name} on dataset '{dataset}' below '{outDir}' (--pair): runs found: {string.Join(", ", runs.Select(r => r.Model + "/" + r.Variant))}");
        }).ToList();
        anchor = CheckLayerAnchor(chosen, layer, anchor);
        var panels = new FigurePanel?[1, 2];
        panels[0, 0] = Panel(chosen[0], layer, anchor, left);
        panels[0, 1] = Panel(chosen[1], layer, anchor, right);
        string title = anchor is null ? $"{layer} · {dataset}" : $"{layer} · anchor {anchor}{AnchorText(chosen, layer, anchor)} · {dataset}";
        string stem = $"pair-{dataset}-{left.Replace('/', '_')}-{right.Replace('/', '_')}-{layer}" + (anchor is null ? "" : $"-{anchor}");
        return Write(outDir, outFile, stem, title, panels, vmin, vmax, layer, null);
    }

    /// <summary>Models (rows) x anchors (columns) for one dataset, layer and variant, like the study's figure 3.</summary>
    public static IReadOnlyList<string> Grid(string outDir, string dataset, string layer, IReadOnlyList<string>? models,
        IReadOnlyList<string>? anchors, string variant, string? outFile, double? vmin = null, double vmax = 1.0)
    {
        if (!Models.ModelRegistry.VariantNames.Contains(variant))
            throw new ShiftBenchException($"unknown variant '{variant}' (--variant): use {string.Join(", ", Models.ModelRegistry.VariantNames)}");
        var runs = RunsOf(outDir, dataset);
        models = models is { Count: > 0 } ? models : runs.Select(r => r.Model).Distinct().ToList();
        foreach (var m in models.Where(m => !runs.Any(r => r.Model == m)))
            throw new ShiftBenchException($"no run of model '{m}' on dataset '{dataset}' below '{outDir}' (--models): runs found: {string.Join(", ", runs.Select(r => r.Model).Distinct())}");
        var columns = layer == RunFolder.ClassLayer ? [null]
            : (anchors is { Count: > 0 } ? anchors : runs.SelectMany(r => r.Anchors.Select(a => a.Name)).Distinct().ToList()).Select(a => (string?)a).ToList();
        foreach (var a in columns.OfType<string>())
            CheckLayerAnchor(runs.Where(r => models.Contains(r.Model)), layer, a);

        var panels = new FigurePanel?[models.Count, columns.Count];
        for (int r = 0; r < models.Count; r++)
            for (int c = 0; c < columns.Count; c++)
            {
                var run = runs.FirstOrDefault(x => x.Model == models[r] && x.Variant == variant);
                string colTitle = columns[c] is { } a ? $"anchor {a}{AnchorText(runs, layer, a)}" : "class probability";
                panels[r, c] = Panel(run, layer, columns[c], r == 0 ? colTitle : "");
            }
        string title = $"{dataset} · {layer} · {variant}";
        string stem = $"grid-{dataset}-{layer}-{variant}";
        return Write(outDir, outFile, stem, title, panels, vmin, vmax, layer, models);
    }

    /// <summary>
    /// A depth profile (<see cref="Analysis.DepthProfile"/>): PNG and SVG, and the numbers as CSV beside them
    /// (OUT/figures/profile-DATASET-MODEL-METRIC.png/.svg/.csv; with --out FILE, FILE and FILE's stem + .csv).
    /// </summary>
    public static IReadOnlyList<string> Profile(string outDir, string model, string dataset, string metric, IReadOnlyList<string>? variants, string? outFile)
    {
        var profile = Analysis.DepthProfile.Collect(outDir, model, dataset, metric, variants);
        string stem = Models.LayerSpec.FileSafe($"profile-{dataset}-{profile.Model}-{metric}");
        var paths = outFile is not null ? [outFile]
            : new[] { ".png", ".svg" }.Select(ext => Path.Combine(outDir, "figures", stem + ext)).ToList();
        foreach (var p in paths) Figures.SaveProfile(p, profile);
        string csv = Path.ChangeExtension(paths[0], ".csv");
        Output.AtomicFile.WriteAllText(csv, profile.ToCsv());
        return [.. paths, csv];
    }

    static List<RunFolder> RunsOf(string outDir, string dataset)
    {
        var all = RunFolder.FindAll(outDir);
        var runs = all.Where(r => r.Dataset == dataset).ToList();
        if (runs.Count == 0)
            throw new ShiftBenchException($"no complete run on dataset '{dataset}' below '{outDir}' (--dataset): datasets found: {(all.Count == 0 ? "none" : string.Join(", ", all.Select(r => r.Dataset).Distinct()))}");
        return runs;
    }

    static string? CheckLayerAnchor(IEnumerable<RunFolder> runs, string layer, string? anchor)
    {
        var list = runs.ToList();
        if (!list.Any(r => r.Grids.Any(g => g.Layer == layer)))
            throw new ShiftBenchException($"layer '{layer}' (--layer) has no grid in these runs: choose one of {string.Join(", ", list.SelectMany(r => r.Grids.Select(g => g.Layer)).Distinct())}");
        if (layer == RunFolder.ClassLayer) return null;
        if (anchor is null)
            throw new ShiftBenchException($"--anchor is required for layer '{layer}': choose one of {string.Join(", ", list.SelectMany(r => r.Anchors.Select(a => a.Name)).Distinct())}");
        if (!list.Any(r => r.Find(layer, anchor) is not null))
            throw new ShiftBenchException($"anchor '{anchor}' (--anchor) has no grid for layer '{layer}': choose one of {string.Join(", ", list.SelectMany(r => r.Grids.Where(g => g.Layer == layer).Select(g => g.Anchor)).Distinct())}");
        return anchor;
    }

    static string AnchorText(IEnumerable<RunFolder> runs, string layer, string? anchor)
    {
        if (layer == RunFolder.ClassLayer || anchor is null) return "";
        foreach (var r in runs)
            foreach (var (name, y, x) in r.Anchors)
                if (name == anchor) return $" ({y}, {x})";
        return "";
    }

    static FigurePanel Panel(RunFolder? run, string layer, string? anchor, string title)
    {
        var file = run?.Find(layer, anchor);
        return new FigurePanel(title, file is null ? null : run!.ReadGrid(file), run?.Stride ?? 1);
    }

    static IReadOnlyList<string> Write(string outDir, string? outFile, string stem, string title, FigurePanel?[,] panels,
        double? vmin, double vmax, string layer, IReadOnlyList<string>? rowLabels)
    {
        if (!double.IsFinite(vmax)) throw new ShiftBenchException($"--vmax {vmax} must be a finite number, e.g. --vmax 1");
        ColorScale.CheckMinimum(vmin, vmax);
        double lo = vmin ?? Figures.DefaultMinimum(panels.Cast<FigurePanel?>().OfType<FigurePanel>(), vmax);
        // The stem holds names read from run.json and the command line: as a file name it must stay in OUT/figures.
        stem = Models.LayerSpec.FileSafe(stem);
        string valueLabel = layer == RunFolder.ClassLayer ? "class probability" : "cosine similarity";
        var paths = outFile is not null ? [outFile]
            : new[] { ".png", ".svg" }.Select(ext => Path.Combine(outDir, "figures", stem + ext)).ToList();
        foreach (var p in paths)
            Figures.Save(p, title, panels, lo, vmax, valueLabel, rowLabels);
        return paths;
    }
}
