using ShiftBench.Datasets.Kinds;
using ShiftBench.Datasets;
using ShiftBench.Models;
using ShiftBench.Models.Families;
using ShiftBench.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Runs.Reuse;

/// <summary>What a run used: run.json's "reuse" (docs/reuse.md).</summary>
public sealed record ReuseRecord(string Mode, string? Method, string? ReusedUntil, string? Fallback,
    double MacsPerImageBrute, double MacsPerImageReuse, IReadOnlyList<ReuseLayerCost> Layers)
{
    /// <summary>Share of the network's multiply-adds per image that reuse does not compute (cost model).</summary>
    public double SkippedShare => MacsPerImageBrute > 0 ? 1 - MacsPerImageReuse / MacsPerImageBrute : 0;

    public Output.RunReuse ToRecord() => new(Mode, Method, ReusedUntil, Fallback, Math.Round(SkippedShare, 4),
        [.. Layers.Select(l => new Output.RunReuseLayer(l.Module, l.Reused, Math.Round(l.ComputedShare, 4)))]);

    public static ReuseRecord Off(string mode, string reason) => new(mode, null, null, reason, 0, 0, []);
}

/// <summary>One step of the prefix in the cost model: its share of brute force's work that reuse computes per image.</summary>
public sealed record ReuseLayerCost(string Module, bool Reused, double ComputedShare);

/// <summary>
/// Exact reuse of shared computation across positions (issue 14). The network's trunk (IStagedNetwork) is a list of
/// steps (<see cref="ReuseStep"/>: windowed modules, ResNet, MobileNetV2 and DenseNet blocks), each of which can compute
/// any rectangle of its output from the input window that rectangle reads (<see cref="WindowGraph"/>).
/// crop ("crop-phase"): every crop of row y lies in the band of the source rows y..y+S. The band's maps, computed whole
/// once per step and column phase px = x mod (that step's cumulative stride), equal the crop's maps (same rows,
/// same top/bottom padding) except in the columns whose computation reaches the crop's left or right padding: per crop
/// only those two strips are computed, from the crop's own previous map (its strips and the band's window between).
/// patch ("patch-canvas"): the maps of the blank canvas are computed once; per position only the rectangle whose
/// computation reads the patch (through reflection too) is computed and pasted into the canvas's map.
/// A patch on a uniform canvas is also a crop: every image is a window of one grown canvas
/// (<see cref="ShiftDataset.WindowSource"/>), so crop-phase applies to it too and the cost model picks the cheaper method.
/// Steps after the chosen depth run whole; the depth minimises the cost model.
/// </summary>
public sealed class ReuseEngine : IDisposable
{
    public const string Auto = "auto", On = "on", OffMode = "off";
    public static readonly IReadOnlyList<string> Modes = [Auto, On, OffMode];
    /// <summary>Cost model: writing one map element (copying clean parts, gathering windows) counts as this many multiply-adds.</summary>
    public const double CopyMacs = 2;
    /// <summary>Cost model: the band maps a crop batch may hold (two rows of every phase) must fit in this.</summary>
    public const long BandBudgetBytes = 1536L << 20;

    readonly IStagedNetwork net;
    readonly List<ReuseStep> steps;                  // the reused steps only
    readonly IReadOnlyList<Func<Tensor, Tensor>> rest; // whole modules after them, to the end of the trunk
    readonly ShiftDataset dataset;
    readonly bool crop;                              // crop-phase (else patch-canvas)
    readonly StepGeometry[] geometry;
    readonly Dictionary<(int Y, int Step, int Phase), Tensor> bands = [];
    readonly List<Tensor>? blank;                    // patch: the blank canvas's maps
    readonly ScalarType dtype;                       // the network's number format (fp32, or bf16/fp16 where asked)
    readonly Tensor? source;                         // crop: the dataset's window source, in that format

    public ReuseRecord Record { get; }

    /// <summary>Band maps computed so far (crop-phase): one per row, reused step and phase of that step's stride.</summary>
    internal int BandsComputed { get; private set; }

    /// <summary>
    /// A step's maps on the dataset's images: input and output sizes, cumulative column stride; crop: the plans of its left
    /// and right strips (Right null and Left the whole map when the strips would meet; both null when nothing differs
    /// from the band); patch: the one window shape used for every position (the longest touched; fixed shapes batch).
    /// </summary>
    sealed record StepGeometry(int InH, int InW, long InC, int OutH, int OutW, long OutC, int Stride, int Strip,
        WindowPlan? Left, WindowPlan? Right, (int Rows, int Cols) Window);

    ReuseEngine(IStagedNetwork net, List<ReuseStep> steps, ShiftDataset dataset, ReuseRecord record, StepGeometry[] geometry, ScalarType dtype)
    {
        this.net = net; this.steps = steps; this.dataset = dataset; Record = record; this.geometry = geometry; this.dtype = dtype;
        rest = steps[^1].After;
        crop = record.Method == ReuseMethodNames.CropPhase;
        using var _ = inference_mode();
        if (crop) source = dtype == ScalarType.Float32 ? null : dataset.WindowSource!.to(dtype);
        else blank = Maps(InNetworkFormat(dataset.BlankCanvas()));
    }

    /// <summary>
    /// The dataset's float32 images converted to the network's format, as <see cref="TorchFeatureNetwork.Forward"/>
    /// converts a brute-force batch (the same values, so reuse and brute force see the same input).
    /// </summary>
    Tensor InNetworkFormat(Tensor images)
    {
        if (dtype == ScalarType.Float32) return images;
        using (images) return images.to(dtype);
    }

    /// <summary>Refuses a --reuse value other than auto, on or off.</summary>
    public static void CheckMode(string mode)
    {
        if (!Modes.Contains(mode))
            throw new ShiftBenchException($"--reuse {mode} is invalid: use auto (exact reuse where it was measured to pay, the default), on (wherever it applies) or off (brute force)");
    }

    /// <summary>
    /// Reuse for this run, or null with the reason in <paramref name="record"/>. Checks the network's structure
    /// and the dataset kind, then lets the cost model pick how deep reuse goes (none when it saves nothing).
    /// </summary>
    /// <param name="model">The zoo network (<see cref="ReusePolicy"/>: where `auto` reuses); null: the cost model alone decides.</param>
    /// <param name="depth">Tests: reuse exactly this many steps instead of the cost model's choice.</param>
    /// <param name="method">Tests: this method (<see cref="ReuseMethodNames.CropPhase"/> or <see cref="ReuseMethodNames.PatchCanvas"/>) instead of the cheaper one.</param>
    public static ReuseEngine? Create(string mode, IFeatureNetwork network, ShiftDataset dataset, out ReuseRecord record,
        ModelEntry? model = null, int? depth = null, string? method = null)
    {
        CheckMode(mode);
        if (mode == OffMode) { record = ReuseRecord.Off(mode, "off (--reuse off)"); return null; }
        if (network is not TorchFeatureNetwork torchNet) { record = ReuseRecord.Off(mode, "ONNX networks are run whole"); return null; }
        var kind = dataset.Config.KindType;
        if (!kind.ExactReuse)
        {
            string covered = string.Join(" and ", Datasets.Kinds.DatasetKinds.All.Where(k => k.ExactReuse).Select(k => k.Name).Order(StringComparer.Ordinal));
            record = ReuseRecord.Off(mode, $"dataset kind {kind.Name} is not covered ({covered} are)"); return null;
        }
        if (torchNet.Module is not IStagedNetwork net)
        { record = ReuseRecord.Off(mode, $"{torchNet.Module.GetType().Name} is not covered (the zoo's families are)"); return null; }
        // Crops are windows of their source; so are the images of a patch on a uniform canvas (the kind says which apply).
        string[] methods = [.. kind.ReuseMethods(dataset)];
        if (method is not null) methods = methods.Contains(method) ? [method]
            : throw new ArgumentException($"reuse method {method} does not apply to dataset {dataset.Config.Name}", nameof(method));
        if (mode == Auto && ReusePolicy.AutoMethods(model) is { } faster)
        {
            if (!methods.Any(faster.Contains))
            {
                record = ReuseRecord.Off(mode, $"{model!.Model}: {string.Join(" and ", methods)} measured no faster than brute force on the reference CPU (--reuse on forces it)");
                return null;
            }
            methods = [.. methods.Where(faster.Contains)];
        }
        // Reuse stops before a step that cannot be windowed or that holds a tapped module (taps need the real module's call).
        var chain = new List<ReuseStep>();
        string? stop = null;
        foreach (var step in ReuseStep.Of(net))
        {
            if (torchNet.Taps.FirstOrDefault(t => step.Covers(t.Module)) is { } tap) { stop = $"layer {tap.Name} reads {tap.Module}, which runs whole"; break; }
            if (step.Graph is null || WindowGraph.Stride(step.Graph, 0) is null || WindowGraph.Stride(step.Graph, 1) is null)
            { stop = $"{step.Name} cannot be computed on windows"; break; }
            chain.Add(step);
        }
        if (chain.Count == 0) { record = ReuseRecord.Off(mode, $"nothing to reuse: {stop}"); return null; }
        long elementBytes = StorageBytes.ElementSize(torchNet.Precision.ScalarType());
        var (chosen, geometry, plan) = methods.Select(m =>
        {
            var g = Geometry(chain, dataset, m == ReuseMethodNames.CropPhase);
            return (Method: m, Geometry: g, Plan: CostModel(chain, g, dataset, m == ReuseMethodNames.CropPhase, elementBytes));
        }).MinBy(c => c.Plan.Reuse)!;
        var layers = plan.Layers;
        if (depth is int forced) plan = plan with { Depth = Math.Min(forced, chain.Count), Reuse = plan.CostAt[Math.Min(forced, chain.Count)] };
        if (plan.Depth == 0)
        {
            record = new ReuseRecord(mode, null, null, "cost model: reuse saves nothing here", plan.Brute, plan.Brute, layers);
            return null;
        }
        var reused = chain.Take(plan.Depth).ToList();
        record = new ReuseRecord(mode, chosen, reused[^1].Name, null,
            plan.Brute, plan.Reuse, layers);
        return new ReuseEngine(net, reused, dataset, record, geometry[..plan.Depth], torchNet.Precision.ScalarType());
    }

    /// <summary>Every step's geometry on the dataset's images (see <see cref="StepGeometry"/>).</summary>
    static StepGeometry[] Geometry(List<ReuseStep> chain, ShiftDataset dataset, bool crop)
    {
        int h = dataset.ImageSize, w = h, stride = 1;
        long c = 3;
        var inside = new Interval(0, w);
        // Patch: the longest touched span per step and axis over every offset (it depends on the offset modulo the strides).
        var (ph, pw) = dataset.PatchSize ?? (0, 0);
        var longest = new int[2][];
        for (int axis = 0; axis < 2; axis++)
        {
            longest[axis] = new int[chain.Count];
            foreach (int offset in crop ? [] : dataset.Offsets)
            {
                var touched = new Interval(offset, offset + (axis == 0 ? ph : pw));
                int n = h;
                for (int l = 0; l < chain.Count; l++)
                {
                    touched = WindowGraph.Touched(chain[l].Graph!, axis, touched, n);
                    n = WindowGraph.Size(chain[l].Graph!, axis, n);
                    longest[axis][l] = Math.Max(longest[axis][l], touched.Length);
                }
            }
        }
        var result = new StepGeometry[chain.Count];
        for (int l = 0; l < chain.Count; l++)
        {
            var g = chain[l].Graph!;
            int oh = WindowGraph.Size(g, 0, h), ow = WindowGraph.Size(g, 1, w);
            long oc = WindowGraph.Channels(g, c);
            stride *= WindowGraph.Stride(g, 1)!.Value;
            int strip = 0;
            WindowPlan? left = null, right = null;
            if (crop)
            {
                inside = WindowGraph.Inside(g, 1, inside, w);
                strip = inside.IsEmpty ? ow : Math.Max(inside.Lo, ow - inside.Hi);
                if (2 * strip >= ow) strip = ow; // the strips would meet: the whole map, once
                if (strip > 0) left = WindowGraph.Plan(g, new(0, oh), new(0, strip), h, w, c);
                if (strip > 0 && strip < ow) right = WindowGraph.Plan(g, new(0, oh), new(ow - strip, ow), h, w, c);
            }
            result[l] = new StepGeometry(h, w, c, oh, ow, oc, stride, strip, left, right, (longest[0][l], longest[1][l]));
            (h, w, c) = (oh, ow, oc);
        }
        return result;
    }

    /// <summary>The chosen depth and its cost; CostAt[d]: the cost when reusing d steps (tests force a depth).</summary>
    sealed record Plan(int Depth, double Brute, double Reuse, List<ReuseLayerCost> Layers, double[] CostAt);

    /// <summary>
    /// Multiply-adds per image of the chain's steps, brute force against reuse to each depth: every windowed module of a
    /// step over what reuse computes of it (strips or rectangle, each widened by the module's halo, <see cref="Axis.Halo"/>,
    /// since a thin window runs far below a whole map's speed: strips of 1 to 5 columns of 13-wide AlexNet maps took as
    /// long as the whole layer), plus for crops the band maps shared by a row of crops, plus copying (<see cref="CopyMacs"/>).
    /// Steps after the chain count the same either way and are left out. Depth = argmin.
    /// </summary>
    static Plan CostModel(List<ReuseStep> chain, StepGeometry[] geometry, ShiftDataset dataset, bool crop, long elementBytes)
    {
        int bandWidth = crop ? (int)dataset.WindowSource!.shape[2] : dataset.ImageSize;
        var originColumns = crop ? Enumerable.Range(0, dataset.Cols).Select(i => dataset.WindowOrigin(i).X).ToList() : [];
        var brute = new double[chain.Count];
        var reuse = new double[chain.Count];
        var bandBytes = new double[chain.Count];
        static double Macs(IEnumerable<(WindowOp Op, Interval Rows, Interval Cols, int H, int W, long C)> ops, Func<WindowOp, int, int, Interval, Interval, double> area) =>
            ops.Sum(o => o.Op.MacsPerOutput * o.C * area(o.Op, o.H, o.W, o.Rows, o.Cols));
        for (int l = 0; l < chain.Count; l++)
        {
            var graph = chain[l].Graph!;
            var g = geometry[l];
            var whole = WindowGraph.Plan(graph, new(0, g.OutH), new(0, g.OutW), g.InH, g.InW, g.InC).Ops;
            brute[l] = Macs(whole, (_, h, w, _, _) => (double)h * w);
            double copy = (double)g.OutH * g.OutW * g.OutC * CopyMacs;
            if (crop)
            {
                int bandOut = WindowGraph.Size(graph, 1, bandWidth);
                var band = WindowGraph.Plan(graph, new(0, g.OutH), new(0, bandOut), g.InH, bandWidth, g.InC).Ops;
                bandWidth = bandOut;
                // Bands per crop: each row of crops needs one band per column phase among the offsets.
                double phases = originColumns.Select(x => x % g.Stride).Distinct().Count();
                double bands = phases / dataset.Cols * Macs(band, (_, h, w, _, _) => (double)h * w);
                // Each strip is at most half the map wide (wider strips meet and the map is computed once).
                double StripMacs(WindowPlan p) => Macs(p.Ops, (op, h, w, _, cols) => h * Math.Min(w / 2.0, cols.Length + op.Cols.Halo));
                double strips = g.Left is null ? 0 : g.Right is null ? brute[l] : StripMacs(g.Left) + StripMacs(g.Right);
                reuse[l] = strips + bands + copy;
                bandBytes[l] = (double)elementBytes * g.OutC * g.OutH * bandOut * 2 * phases;
            }
            else
            {
                var (dr, dc) = g.Window;
                double rect = 0;
                if (dr > 0 && dc > 0)
                {
                    int r0 = (g.OutH - dr) / 2, c0 = (g.OutW - dc) / 2; // a window away from the edges
                    var ops = WindowGraph.Plan(graph, new(r0, r0 + dr), new(c0, c0 + dc), g.InH, g.InW, g.InC).Ops;
                    rect = Macs(ops, (op, h, w, rows, cols) => Math.Min(h, rows.Length + op.Rows.Halo) * Math.Min(w, cols.Length + op.Cols.Halo));
                }
                reuse[l] = rect + 2 * copy;
            }
        }
        int best = 0;
        double bestCost = brute.Sum(), cost = bestCost, bytes = 0;
        var costAt = new double[chain.Count + 1];
        costAt[0] = cost;
        bool fits = true;
        for (int depth = 1; depth <= chain.Count; depth++)
        {
            cost += reuse[depth - 1] - brute[depth - 1];
            costAt[depth] = cost;
            bytes += bandBytes[depth - 1];
            fits &= bytes <= BandBudgetBytes;
            if (fits && cost < bestCost - 1e-9) { bestCost = cost; best = depth; }
        }
        var layers = chain.Select((s, l) => new ReuseLayerCost(s.Name, l < best, l < best && brute[l] > 0 ? reuse[l] / brute[l] : 1)).ToList();
        return new Plan(best, brute.Sum(), bestCost, layers, costAt);
    }

    /// <summary>Every reused step's map of one image [1,3,H,W], each computed whole (by the real modules) from the one before.</summary>
    List<Tensor> Maps(Tensor image)
    {
        var maps = new List<Tensor>();
        var x = image;
        foreach (var step in steps)
        {
            x = step.Whole(x);
            x.DetachFromDisposeScope();
            maps.Add(x);
        }
        image.Dispose();
        return maps;
    }

    /// <summary>The logits of positions [start, start+count), tapped layers recorded by the network's hooks.</summary>
    public Tensor Forward(int start, int count)
    {
        using var scope = NewDisposeScope();
        return net.Head(FeatureMap(start, count)).MoveToOuterDisposeScope();
    }

    /// <summary>The trunk's output (the map before global pooling) for positions [start, start+count): reused steps, then the rest whole.</summary>
    internal Tensor FeatureMap(int start, int count)
    {
        using var scope = NewDisposeScope();
        var x = crop ? CropPrefix(start, count) : PatchPrefix(start, count);
        foreach (var module in rest) x = module(x);
        return x.MoveToOuterDisposeScope();
    }

    Tensor CropPrefix(int start, int count)
    {
        var source = this.source ?? dataset.WindowSource!;
        int size = dataset.ImageSize;
        var positions = Enumerable.Range(start, count).Select(dataset.WindowOrigin).ToList();
        // A row's bands are kept until a batch no longer reads that row: at stride 1 a batch smaller than the number of
        // phases meets each phase again in later batches of the row (the cost model counts each band once per row).
        var rows = positions.Select(p => p.Y).ToHashSet();
        foreach (var key in bands.Keys.Where(k => !rows.Contains(k.Y)).ToList())
        {
            bands[key].Dispose();
            bands.Remove(key);
        }

        // Step l's band of phase q (columns q, q + S, ... of the source, S = its cumulative stride) is step l's whole
        // output on step l-1's band of phase q mod S', S' the stride before it, from column (q - q mod S') / S': the
        // phases share everything before the strides that tell them apart (a stride-1 VGG block is computed once per
        // row, not once per phase). The columns the cut changes reach the band's left padding, which no crop reads.
        Tensor Band(int y, int l, int q)
        {
            if (bands.TryGetValue((y, l, q), out var known)) return known;
            using var inner = NewDisposeScope();
            int before = l == 0 ? 1 : geometry[l - 1].Stride, q0 = q % before;
            var input = l == 0 ? source[.., y..(y + size), q..].unsqueeze(0) : Band(y, l - 1, q0)[.., .., .., ((q - q0) / before)..];
            var map = steps[l].Whole(input);
            map.DetachFromDisposeScope();
            BandsComputed++;
            return bands[(y, l, q)] = map;
        }

        // Only each crop's edge columns are cut and kept between steps (what the next step's strips read); the middle of
        // every map is the band's, so the whole map is put together once, after the last reused step.
        var (left, right) = Edges(geometry[0], size, (c0, c1) => stack(positions.Select(p => source[.., p.Y..(p.Y + size), (p.X + c0)..(p.X + c1)]).ToArray()));
        for (int l = 0; ; l++)
        {
            var g = geometry[l];
            int w = g.OutW, strip = g.Strip;
            Tensor Input(WindowPlan p, Tensor held, int heldFrom) =>
                held[.., .., p.InRows.Lo..p.InRows.Hi, (p.InCols.Lo - heldFrom)..(p.InCols.Hi - heldFrom)];
            var leftStrip = g.Left is { } lp ? lp.Run(Input(lp, left!, 0)) : null;
            var rightStrip = g.Right is { } rp ? rp.Run(Input(rp, right!, g.InW - (int)right!.shape[3])) : null;

            // Columns [c0, c1) of every crop's map: left strip, then the band's window, then the right strip.
            Tensor Columns(int c0, int c1)
            {
                var pieces = new List<Tensor>();
                int leftEnd = Math.Min(c1, strip), rightStart = Math.Max(Math.Max(c0, strip), w - (rightStrip is null ? 0 : strip));
                if (c0 < leftEnd) pieces.Add(leftStrip![.., .., .., c0..leftEnd]);
                int b0 = Math.Max(c0, leftEnd), b1 = Math.Min(c1, rightStart);
                if (b0 < b1)
                    pieces.Add(stack(positions.Select(p =>
                    {
                        int phase = p.X % g.Stride, shift = (p.X - phase) / g.Stride;
                        return Band(p.Y, l, phase)[0, .., .., (shift + b0)..(shift + b1)];
                    }).ToArray()));
                if (rightStart < c1) pieces.Add(rightStrip![.., .., .., (rightStart - (w - strip))..(c1 - (w - strip))]);
                return pieces.Count == 1 ? pieces[0] : cat(pieces, 3);
            }

            if (l == steps.Count - 1) return Columns(0, w);
            (left, right) = Edges(geometry[l + 1], w, Columns);
        }
    }

    /// <summary>
    /// The columns of a map (width <paramref name="w"/>, cut by <paramref name="columns"/>) that a step's strips read:
    /// [0, left's width) and [w - right's width, w); the whole map when they meet, none when the step is all band.
    /// </summary>
    static (Tensor? Left, Tensor? Right) Edges(StepGeometry step, int w, Func<int, int, Tensor> columns)
    {
        if (step.Left is null) return (null, null);
        int eLeft = step.Left.InCols.Hi, eRight = step.Right is { } r ? w - r.InCols.Lo : 0;
        if (step.Right is null || eLeft + eRight >= w) { var whole = columns(0, w); return (whole, whole); }
        return (columns(0, eLeft), columns(w - eRight, w));
    }

    Tensor PatchPrefix(int start, int count)
    {
        var x = InNetworkFormat(dataset.Batch(start, count));
        var (ph, pw) = dataset.PatchSize!.Value;
        var rows = new Interval[count];
        var cols = new Interval[count];
        for (int i = 0; i < count; i++)
        {
            var (py, px) = dataset.PositionAt(start + i);
            rows[i] = new(py, py + ph);
            cols[i] = new(px, px + pw);
        }
        for (int l = 0; l < steps.Count; l++)
        {
            var graph = steps[l].Graph!;
            var g = geometry[l];
            for (int i = 0; i < count; i++)
            {
                rows[i] = WindowGraph.Touched(graph, 0, rows[i], g.InH);
                cols[i] = WindowGraph.Touched(graph, 1, cols[i], g.InW);
            }
            var y = blank![l].expand(count, -1, -1, -1).contiguous();
            // One shape for every position (the longest over all offsets), moved inside the map: extra outputs are exact too.
            var (dr, dc) = g.Window;
            if (rows.Any(r => r.Length > dr) || cols.Any(c => c.Length > dc))
                throw new InvalidOperationException($"reuse: a patch touches more of {steps[l].Name} than the cost model found");
            // Windows cut and padded alike (same plan key: away from the edges, or at the same edge) run as one batch.
            var groups = new Dictionary<string, List<(int I, WindowPlan Plan)>>();
            for (int i = 0; i < count; i++)
            {
                if (rows[i].IsEmpty || cols[i].IsEmpty) continue;
                int r0 = Math.Min(rows[i].Lo, g.OutH - dr), c0 = Math.Min(cols[i].Lo, g.OutW - dc);
                var plan = WindowGraph.Plan(graph, new(r0, r0 + dr), new(c0, c0 + dc), g.InH, g.InW, g.InC);
                if (!groups.TryGetValue(plan.Key, out var members)) groups[plan.Key] = members = [];
                members.Add((i, plan));
            }
            foreach (var members in groups.Values)
            {
                var computed = members[0].Plan.Run(cat(members.Select(m =>
                    x[m.I..(m.I + 1), .., m.Plan.InRows.Lo..m.Plan.InRows.Hi, m.Plan.InCols.Lo..m.Plan.InCols.Hi]).ToArray(), 0));
                for (int k = 0; k < members.Count; k++)
                {
                    var (i, plan) = members[k];
                    y[i, .., plan.Rows.Lo..plan.Rows.Hi, plan.Cols.Lo..plan.Cols.Hi].copy_(computed[k]);
                }
            }
            x = y;
        }
        return x;
    }

    public void Dispose()
    {
        foreach (var map in bands.Values) map.Dispose();
        bands.Clear();
        if (blank is not null) foreach (var t in blank) t.Dispose();
        source?.Dispose();
    }
}
