using System.IO.Compression;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ShiftBench.Datasets;

namespace ShiftBench.Report;

/// <summary>What <see cref="ReportBuilder.Build"/> wrote.</summary>
public sealed record ReportResult(string Path, int Runs, int Grids, long Bytes);

/// <summary>
/// `shiftbench report`: one self-contained HTML page (no network, opens from file://) over every complete run
/// below an output folder. Grids are embedded as 16-bit codes (value = lo + code * step, step = 2e-5 or the
/// grid's range / 65534 if that is coarser; 65535 = missing),
/// delta-coded, split into low/high byte planes and gzip-compressed per run (the page inflates them with the
/// browser's DecompressionStream). Each dataset's resized source image is embedded once as raw RGBA (not PNG:
/// a canvas stores premultiplied alpha, which would alter the berry's semi-transparent edge), so the page
/// can draw the exact image the network saw at any position.
/// </summary>
public static class ReportBuilder
{
    public const string FileName = "index.html";
    const string DataPlaceholder = "__SHIFTBENCH_DATA__";
    internal const int MissingCode = 65535, MaxCode = 65534;

    /// <summary>Writes outDir/index.html. resize defaults to the datasets' own <see cref="DatasetView.DatasetResize"/>.</summary>
    public static ReportResult Build(string outDir, IEnumerable<string> dataDirs, ResizeSource? resize = null,
        IProgress<ProgressUpdate>? progress = null)
    {
        resize ??= DatasetView.DatasetResize;
        var runs = RunFolder.FindAll(outDir);
        if (runs.Count == 0)
            throw new ShiftBenchException($"no complete run (run.json with \"complete\": true) below '{outDir}': run `shiftbench run` first or pass the folder it wrote to");
        var dirs = dataDirs.ToList();

        var datasets = new JsonObject();
        foreach (var run in runs.GroupBy(r => r.Dataset).Select(g => g.First()))
            datasets[run.Dataset] = NoImageKind(run) is { } kind ? NoImageJson(run, kind) : DatasetJson(DatasetView.FromRunJson(run.DatasetSection, dirs, resize));

        var runArray = new JsonArray();
        int totalGrids = runs.Sum(r => r.Grids.Count), done = 0;
        foreach (var run in runs)
        {
            runArray.Add(RunJson(run));
            done += run.Grids.Count;
            progress?.Report(new ProgressUpdate("report", done, totalGrids, "grids"));
        }

        var data = new JsonObject
        {
            ["lut"] = Convert.ToHexStringLower(ColorScale.Lut.SelectMany(c => new[] { c.R, c.G, c.B }).ToArray()),
            ["missing"] = Convert.ToHexStringLower([ColorScale.Missing.R, ColorScale.Missing.G, ColorScale.Missing.B]),
            ["vmax"] = 1.0,
            ["datasets"] = datasets,
            ["runs"] = runArray,
            ["profiles"] = Profiles(outDir, runs),
            ["metricTable"] = MetricTableJson(),
        };
        // The default encoder escapes '<', '>' and '&', so the JSON cannot close the <script> element it sits in.
        string html = Template().Replace(DataPlaceholder, data.ToJsonString());
        string path = Path.Combine(outDir, FileName);
        File.WriteAllText(path, html, new UTF8Encoding(false));
        return new ReportResult(path, runs.Count, totalGrids, new FileInfo(path).Length);
    }

    /// <summary>
    /// The depth profiles (`global` over the stages, `equivariance` over the map stages) of every dataset and zoo model whose runs hold the stages
    /// (`run --layers stages`): {dataset, model, metric, stages, layers: {variant: [layer per stage]}, values: {variant: [value or null]}}.
    /// </summary>
    static JsonArray Profiles(string outDir, IReadOnlyList<RunFolder> runs)
    {
        var profiles = new JsonArray();
        foreach (var group in runs.GroupBy(r => (r.Dataset, r.Model)))
        {
            if (!Models.ModelRegistry.ModelNames.Contains(group.Key.Model)) continue;
            foreach (var metric in new[] { Analysis.DepthProfile.DefaultMetric, Analysis.Equivariance.Metric })
            {
                Analysis.DepthProfile profile;
                try { profile = Analysis.DepthProfile.Collect(outDir, group.Key.Model, group.Key.Dataset, metric); }
                catch (ShiftBenchException) { continue; } // no run of this model has these stages
                profiles.Add(new JsonObject
                {
                    ["dataset"] = profile.Dataset, ["model"] = profile.Model, ["metric"] = profile.Metric,
                    ["stages"] = new JsonArray([.. profile.Stages.Select(s => JsonValue.Create(s))]),
                    ["values"] = new JsonObject(profile.Variants.Select(v => KeyValuePair.Create(v, (JsonNode?)new JsonArray(
                        [.. profile.Stages.Select(s => profile.Value(s, v) is var x && double.IsFinite(x) ? JsonValue.Create(x) : null)])))),
                });
            }
        }
        return profiles;
    }

    static string Template()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("ShiftBench.Report.report.html")
            ?? throw new InvalidOperationException("embedded resource report.html is missing from ShiftBench.Core");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    static JsonObject DatasetJson(DatasetView view)
    {
        var json = new JsonObject
        {
            ["kind"] = view.Kind,
            ["draw"] = view.Draw.ToString().ToLowerInvariant(),
            ["canvasSize"] = view.CanvasSize,
            ["canvasColor"] = new JsonArray(view.CanvasColor.R, view.CanvasColor.G, view.CanvasColor.B),
            ["source"] = ImageJson(view.Source),
        };
        if (view.CanvasImage is { } bg) json["canvasImage"] = ImageJson(bg);
        return json;
    }

    /// <summary>
    /// A registered kind whose positions the page does not draw (<see cref="Datasets.Kinds.DatasetKind.Draw"/> is null:
    /// a `patches` run's mean over patches, the circular shifts that `shiftbench dataset render` writes); null for a kind
    /// the page draws or does not know. The page shows the grids and the kind's caption.
    /// </summary>
    static Datasets.Kinds.DatasetKind? NoImageKind(RunFolder run) =>
        run.DatasetSection.Config is { ValueKind: JsonValueKind.Object } config
        && config.TryGetProperty("kind", out var kind) && kind.ValueKind == JsonValueKind.String
        && Datasets.Kinds.DatasetKinds.Find(kind.GetString()) is { Draw: null } found ? found : null;

    static JsonObject NoImageJson(RunFolder run, Datasets.Kinds.DatasetKind kind)
    {
        int canvasSize = run.DatasetSection.Config!.Value.TryGetProperty("canvas", out var canvas)
            && canvas.TryGetProperty("size", out var size) && size.ValueKind == JsonValueKind.Number && size.TryGetInt32(out int s)
            && s is >= 1 and <= Datasets.InputLimits.MaxCanvasSize ? s : 224; // only labels a blank panel
        return new JsonObject
        {
            ["kind"] = kind.Name, ["canvasSize"] = canvasSize, ["noImage"] = true,
            ["caption"] = new JsonArray([.. kind.NoImageCaption.Select(line => JsonValue.Create(line))]),
        };
    }

    static JsonObject ImageJson(RgbaImage image) => new()
    {
        ["width"] = image.Width,
        ["height"] = image.Height,
        ["rgba"] = Convert.ToBase64String(Gzip(image.Rgba)),
    };

    static JsonObject RunJson(RunFolder run)
    {
        int n = run.Rows * run.Cols;
        var blob = new byte[run.Grids.Count * n * 2];
        var grids = new JsonArray();
        for (int g = 0; g < run.Grids.Count; g++)
        {
            var file = run.Grids[g];
            var (codes, lo, step) = Quantize(run.ReadGrid(file));
            // Low bytes of every delta, then high bytes: smooth grids give a high plane of near-constant bytes.
            int offset = g * n * 2, previous = 0;
            for (int i = 0; i < n; i++)
            {
                int delta = (codes[i] - previous) & 0xffff;
                previous = codes[i];
                blob[offset + i] = (byte)delta;
                blob[offset + n + i] = (byte)(delta >> 8);
            }
            grids.Add(new JsonObject { ["layer"] = file.Layer, ["anchor"] = file.Anchor, ["lo"] = lo, ["step"] = step });
        }
        var anchors = new JsonObject();
        foreach (var (name, y, x) in run.Anchors) anchors[name] = new JsonArray(y, x);
        var figures = new JsonArray();
        foreach (var f in run.Figures)
        {
            if (new FileInfo(f).Length > Output.BoundedFile.MaxTextBytes)
                throw new ShiftBenchException($"figure {f} is larger than {Output.BoundedFile.MaxTextBytes >> 20} MiB, too large to embed in the report; delete it or rerun that run");
            figures.Add(new JsonObject
            {
                ["name"] = Path.GetFileName(f),
                ["uri"] = "data:image/png;base64," + Convert.ToBase64String(File.ReadAllBytes(f)),
            });
        }
        return new JsonObject
        {
            ["dataset"] = run.Dataset,
            ["model"] = run.Model,
            ["variant"] = run.Variant,
            ["rows"] = run.Rows,
            ["cols"] = run.Cols,
            ["stride"] = run.Stride,
            ["layers"] = new JsonArray(run.Layers.Select(l => (JsonNode?)l).ToArray()),
            ["anchors"] = anchors,
            ["grids"] = grids,
            ["blob"] = Convert.ToBase64String(Gzip(blob)),
            ["figures"] = figures,
            ["metrics"] = ClassMetrics(run.Dir),
        };
    }

    /// <summary>The class metrics the page tabulates per variant, in its row order (the registry's, docs/metrics.md).</summary>
    internal static IReadOnlyList<string> TableMetrics => [.. Analysis.Metrics.ReportTable.Select(m => m.Name)];

    /// <summary>The page's class-metrics table: each row's summary.json key, label and format (`number` or `yesno`).</summary>
    static JsonArray MetricTableJson() => new([.. Analysis.Metrics.ReportTable.Select(m => (JsonNode)new JsonObject
    {
        ["key"] = m.Name, ["label"] = m.Label, ["format"] = m.Format.ToString().ToLowerInvariant(),
    })]);

    /// <summary>summary.json's class metrics of a run (null where the run has none, e.g. no class layer or no summary).</summary>
    static JsonObject? ClassMetrics(string runDir)
    {
        if (Output.SummaryRecord.Read(runDir)?.Layers.GetValueOrDefault(Models.ModelEntry.ClassLayer) is not { } entry) return null;
        return new JsonObject(TableMetrics.Select(m => KeyValuePair.Create(m, entry[m] is { } v && double.IsFinite(v) ? (JsonNode?)v : null)));
    }

    /// <summary>
    /// Finest quantisation step: the page shows 4 decimals, and a step of 2e-5 keeps the shown value within 1e-5
    /// of the CSV while leaving the codes compressible (the full study's 336 grids: 9 MB instead of 13 MB).
    /// </summary>
    internal const double FinestStep = 2e-5;

    /// <summary>Row-major 16-bit codes: value = lo + code * step; 65535 = NaN.</summary>
    internal static (ushort[] Codes, double Lo, double Step) Quantize(double[,] grid)
    {
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        foreach (double v in grid)
            if (double.IsFinite(v)) { lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
        if (double.IsPositiveInfinity(lo)) (lo, hi) = (0, 0);
        double step = Math.Max(FinestStep, (hi - lo) / MaxCode);
        var codes = new ushort[grid.Length];
        int i = 0;
        foreach (double v in grid)
            codes[i++] = !double.IsFinite(v) ? (ushort)MissingCode : (ushort)Math.Min(MaxCode, Math.Round((v - lo) / step));
        return (codes, lo, step);
    }

    static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize))
            gzip.Write(data);
        return output.ToArray();
    }
}
