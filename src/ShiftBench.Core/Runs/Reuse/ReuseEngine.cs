using System.Text.Json.Nodes;
using ShiftBench.Datasets;
using ShiftBench.Models;
using ShiftBench.Models.Families;
using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Runs.Reuse;

/// <summary>What a run used: run.json's "reuse" (README "Exact reuse").</summary>
public sealed record ReuseRecord(string Mode, string? Method, string? ReusedUntil, string? Fallback,
    double MacsPerImageBrute, double MacsPerImageReuse, IReadOnlyList<ReuseLayerCost> Layers)
{
    /// <summary>Share of the network's multiply-adds per image that reuse does not compute (cost model).</summary>
    public double SkippedShare => MacsPerImageBrute > 0 ? 1 - MacsPerImageReuse / MacsPerImageBrute : 0;

    public JsonObject ToJson() => new()
    {
        ["mode"] = Mode, ["method"] = Method, ["reused_until"] = ReusedUntil, ["fallback"] = Fallback,
        ["macs_skipped_share"] = Math.Round(SkippedShare, 4),
        ["layers"] = new JsonArray([.. Layers.Select(l => (JsonNode)new JsonObject
        {
            ["module"] = l.Module, ["reused"] = l.Reused, ["computed_share"] = Math.Round(l.ComputedShare, 4),
        })]),
    };

    public static ReuseRecord Off(string mode, string reason) => new(mode, null, null, reason, 0, 0, []);
}

/// <summary>One step of the prefix in the cost model: its share of brute force's work that reuse computes per image.</summary>
public sealed record ReuseLayerCost(string Module, bool Reused, double ComputedShare);

/// <summary>
/// Exact reuse of shared computation across positions (issue 14) for networks whose convolutional part is a
/// chain of windowed steps (AlexNet, VGG: see <see cref="ReuseUnit.Chain"/>).
/// crop ("crop-phase"): every crop of row y lies in the band of the source rows y..y+S. The band's maps, computed
/// once per column phase px = x mod (the deepest reused step's cumulative stride), equal the crop's maps (same rows,
/// same top/bottom padding) except in the columns whose window reaches the crop's left or right padding: per crop
/// only those two strips are computed, from the crop's own previous map.
/// patch ("patch-canvas"): the maps of the blank canvas are computed once; per position only the rectangle whose
/// window reads the patch (through reflection too) is computed.
/// Steps after the chosen depth run as brute force on the assembled map; the depth minimises the cost model.
/// </summary>
public sealed class ReuseEngine : IDisposable
{
    public const string Auto = "auto", On = "on", OffMode = "off";
    public static readonly IReadOnlyList<string> Modes = [Auto, On, OffMode];
    /// <summary>
    /// `auto` reuses only where the cost model skips at least this share of the chain's multiply-adds: measured on the
    /// 2-core CPU, AlexNet at 17-32% was no faster (plane) or slower (berry) while VGG16 at 45-58% was faster.
    /// `on` reuses wherever it applies.
    /// </summary>
    public const double AutoMinimumSaving = 0.35;
    public const string CropMethod = "crop-phase", PatchMethod = "patch-canvas";
    /// <summary>Cost model: writing one map element (copying clean parts, gathering windows) counts as this many multiply-adds.</summary>
    public const double CopyMacs = 2;
    /// <summary>Cost model: the band maps a crop batch may hold (two rows of every phase) must fit in this.</summary>
    public const long BandBudgetBytes = 1536L << 20;

    readonly PooledClassifierNet net;
    readonly List<ReuseUnit> units;              // the reused steps only
    readonly List<nn.Module<Tensor, Tensor>> rest; // brute force after them
    readonly ShiftDataset dataset;
    readonly bool crop;
    readonly int[] strides;                      // cumulative stride after each reused step
    readonly (int Lo, int Hi)[] inside;          // crop: columns equal to the band's, per step
    readonly Dictionary<(int Y, int Px), List<Tensor>> bands = [];
    readonly List<Tensor>? blank;                // patch: the blank canvas's maps
    readonly (int Rows, int Cols)[] windows;     // patch: one window shape per step for every position (fixed shapes run faster)

    public ReuseRecord Record { get; }

    ReuseEngine(PooledClassifierNet net, List<ReuseUnit> units, List<nn.Module<Tensor, Tensor>> rest, ShiftDataset dataset, ReuseRecord record, (int, int)[] windows)
    {
        this.net = net; this.units = units; this.rest = rest; this.dataset = dataset; Record = record; this.windows = windows;
        crop = dataset.Config.Kind == DatasetConfig.CropKind;
        strides = new int[units.Count];
        inside = new (int, int)[units.Count];
        int stride = 1, size = dataset.ImageSize, lo = 0, hi = size;
        for (int l = 0; l < units.Count; l++)
        {
            stride *= units[l].Stride;
            strides[l] = stride;
            (lo, hi) = units[l].Inside(lo, hi, size);
            inside[l] = (lo, hi);
            size = units[l].OutSize(size);
        }
        if (!crop)
        {
            using var _ = inference_mode();
            blank = Maps(dataset.BlankCanvas());
        }
    }

    /// <summary>Refuses a --reuse value other than auto or off.</summary>
    public static void CheckMode(string mode)
    {
        if (!Modes.Contains(mode))
            throw new ShiftBenchException($"--reuse {mode} is invalid: use auto (exact reuse where the cost model says it pays, the default), on (wherever it applies) or off (brute force)");
    }

    /// <summary>
    /// Reuse for this run, or null with the reason in <paramref name="record"/>. Checks the network's structure
    /// and the dataset kind, then lets the cost model pick how deep reuse goes (none when it saves nothing).
    /// </summary>
    /// <param name="depth">Tests: reuse exactly this many steps instead of the cost model's choice.</param>
    public static ReuseEngine? Create(string mode, IFeatureNetwork network, ShiftDataset dataset, out ReuseRecord record, int? depth = null)
    {
        CheckMode(mode);
        if (mode == OffMode) { record = ReuseRecord.Off(mode, "off (--reuse off)"); return null; }
        if (network is not TorchFeatureNetwork torchNet) { record = ReuseRecord.Off(mode, "ONNX networks are run whole"); return null; }
        if (torchNet.Precision != Precision.Fp32) { record = ReuseRecord.Off(mode, $"reuse runs in fp32 only; --precision {torchNet.Precision.Name()} is brute force"); return null; }
        string kind = dataset.Config.Kind;
        if (kind != DatasetConfig.CropKind && kind != DatasetConfig.PatchKind)
        { record = ReuseRecord.Off(mode, $"dataset kind {kind} is not covered (crop and patch are)"); return null; }
        if (torchNet.Module is not PooledClassifierNet net)
        { record = ReuseRecord.Off(mode, $"{torchNet.Module.GetType().Name} blocks are not covered yet (AlexNet and VGG are)"); return null; }
        var (chain, _) = ReuseUnit.Chain(net.Features, "features");
        // A layer tapped inside `features` must come out of a real module call: reuse stops before that module.
        int firstTapped = torchNet.Taps.Select(t => t.Module == "features" ? 0
            : t.Module.StartsWith("features.") && int.TryParse(t.Module.Split('.')[1], out int j) ? j : int.MaxValue).DefaultIfEmpty(int.MaxValue).Min();
        chain = chain.TakeWhile(u => u.FirstModule + u.ModuleCount <= firstTapped).ToList();
        if (chain.Count == 0) { record = ReuseRecord.Off(mode, "a layer is tapped at the start of features (module layers are computed whole)"); return null; }
        var plan = CostModel(chain, dataset);
        var layers = plan.Layers;
        if (depth is int forced) plan = plan with { Depth = Math.Min(forced, chain.Count) };
        if (plan.Depth == 0)
        {
            record = new ReuseRecord(mode, null, null, "cost model: reuse saves nothing here", plan.Brute, plan.Brute, layers);
            return null;
        }
        double saving = 1 - plan.Reuse / plan.Brute;
        if (depth is null && mode == Auto && saving < AutoMinimumSaving)
        {
            record = new ReuseRecord(mode, null, null,
                FormattableString.Invariant($"cost model: reuse would skip {saving * 100:F0}% of the multiply-adds, below the {AutoMinimumSaving * 100:F0}% that pays on a CPU (--reuse on forces it)"),
                plan.Brute, plan.Brute, layers);
            return null;
        }
        var reused = chain.Take(plan.Depth).ToList();
        int firstRest = reused[^1].FirstModule + reused[^1].ModuleCount;
        var rest = net.Features.children().Skip(firstRest).Cast<nn.Module<Tensor, Tensor>>().ToList();
        record = new ReuseRecord(mode, kind == DatasetConfig.CropKind ? CropMethod : PatchMethod, reused[^1].Name, null,
            plan.Brute, plan.Reuse, layers);
        return new ReuseEngine(net, reused, rest, dataset, record, plan.Windows);
    }

    sealed record Plan(int Depth, double Brute, double Reuse, List<ReuseLayerCost> Layers, (int Rows, int Cols)[] Windows);

    /// <summary>
    /// Cost model: a window of a map costs as if it were wider by the step's halo in output units, (Kernel-1)/Stride,
    /// since a thin strip runs far below the convolution's speed on a whole map (measured: strips of 1 to 5
    /// columns of 13-wide AlexNet maps took as long as the whole layer).
    /// </summary>
    static double Halo(ReuseUnit u) => (u.Kernel - 1.0) / u.Stride + 1;

    /// <summary>
    /// Multiply-adds per image of the chain's steps, brute force against reuse to each depth: computed strips or
    /// rectangles, plus for crops the band maps shared by a row of crops, plus copying (<see cref="CopyMacs"/>).
    /// Steps after the chain count the same either way and are left out. Depth = argmin.
    /// </summary>
    static Plan CostModel(List<ReuseUnit> chain, ShiftDataset dataset)
    {
        bool crop = dataset.Config.Kind == DatasetConfig.CropKind;
        int size = dataset.ImageSize, band = crop ? dataset.Config.Resize!.Value : size;
        var (ph, pw) = dataset.PatchSize ?? (0, 0);
        int lo = 0, hi = size, bandSize = band, stride = 1;
        // Patch: the longest touched interval per step and axis over every offset (it depends on the offset modulo the strides).
        var longest = new[] { ph, pw }.Select(extent =>
        {
            var most = new int[chain.Count];
            foreach (int offset in crop ? [] : dataset.Offsets)
            {
                (int Lo, int Hi) touched = (offset, offset + extent);
                int n = size;
                for (int l = 0; l < chain.Count; l++)
                {
                    touched = chain[l].Touched(touched.Lo, touched.Hi, n);
                    n = chain[l].OutSize(n);
                    most[l] = Math.Max(most[l], touched.Hi - touched.Lo);
                }
            }
            return most;
        }).ToArray();
        var brute = new double[chain.Count];
        var reuse = new double[chain.Count];
        var bandBytes = new double[chain.Count];
        var windows = new (int Rows, int Cols)[chain.Count];
        for (int l = 0; l < chain.Count; l++)
        {
            var u = chain[l];
            int outSize = u.OutSize(size);
            double perPixel = u.OutChannels * u.MacsPerOutput, pixels = (double)outSize * outSize;
            brute[l] = pixels * perPixel;
            double copy = pixels * u.OutChannels * CopyMacs;
            stride *= u.Stride;
            if (crop)
            {
                (lo, hi) = u.Inside(lo, hi, size);
                bandSize = u.OutSize(bandSize);
                // Bands per crop: each row of crops needs one band per column phase among the offsets.
                double phases = dataset.Offsets.Select(x => x % stride).Distinct().Count();
                double bandsPerCrop = phases / dataset.Cols;
                // Both strips are one call as wide as the wider; a thin strip costs its halo too (Halo).
                int strip = Math.Max(lo, outSize - hi);
                reuse[l] = strip == 0 ? copy + bandsPerCrop * outSize * bandSize * perPixel
                    : outSize * 2 * Math.Min(outSize / 2.0, strip + Halo(u)) * perPixel + bandsPerCrop * outSize * bandSize * perPixel + copy;
                bandBytes[l] = 4.0 * u.OutChannels * outSize * bandSize * 2 * phases;
            }
            else
            {
                windows[l] = (longest[0][l], longest[1][l]);
                reuse[l] = Math.Min(outSize, windows[l].Rows + Halo(u)) * Math.Min(outSize, windows[l].Cols + Halo(u)) * perPixel + 2 * copy;
            }
            size = outSize;
        }
        int best = 0;
        double bestCost = brute.Sum(), cost = bestCost, bytes = 0;
        for (int depth = 1; depth <= chain.Count; depth++)
        {
            cost += reuse[depth - 1] - brute[depth - 1];
            bytes += bandBytes[depth - 1];
            if (bytes > BandBudgetBytes) break;
            if (cost < bestCost - 1e-9) { bestCost = cost; best = depth; }
        }
        var layers = chain.Select((u, l) => new ReuseLayerCost(u.Name, l < best, l < best ? reuse[l] / brute[l] : 1)).ToList();
        return new Plan(best, brute.Sum(), bestCost, layers, windows);
    }

    /// <summary>Every reused step's map of one image [1,3,H,W], each computed whole from the one before.</summary>
    List<Tensor> Maps(Tensor image)
    {
        var maps = new List<Tensor>();
        var x = image;
        foreach (var u in units)
        {
            x = u.ApplyFull(x);
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

    /// <summary>The output of `features` for positions [start, start+count): reused steps, then the rest whole.</summary>
    internal Tensor FeatureMap(int start, int count)
    {
        using var scope = NewDisposeScope();
        var x = crop ? CropPrefix(start, count) : PatchPrefix(start, count);
        foreach (var module in rest) x = module.call(x);
        return x.MoveToOuterDisposeScope();
    }

    Tensor CropPrefix(int start, int count)
    {
        var source = dataset.NormalisedCropSource!;
        int size = dataset.ImageSize, deepest = strides[^1];
        var positions = Enumerable.Range(start, count).Select(dataset.PositionAt).ToList();
        var needed = positions.Select(p => (p.Y, p.X % deepest)).ToHashSet();
        foreach (var key in bands.Keys.Where(k => !needed.Contains(k)).ToList())
        {
            foreach (var t in bands[key]) t.Dispose();
            bands.Remove(key);
        }
        foreach (var key in needed.Where(k => !bands.ContainsKey(k)))
            using (var inner = NewDisposeScope())
                bands[key] = Maps(source[.., key.Y..(key.Y + size), key.Item2..].unsqueeze(0));

        // Only each crop's edge columns are kept between steps (what the next step's strips read); the middle of
        // every map is the band's, so the whole map is put together once, after the last reused step.
        var crops = stack(positions.Select(p => source[.., p.Y..(p.Y + size), p.X..(p.X + size)]).ToArray());
        Tensor left = crops, right = crops;
        int width = size;
        for (int l = 0; l < units.Count; l++)
        {
            var u = units[l];
            int h = u.OutSize((int)left.shape[2]), w = u.OutSize(width);
            var (lo, hi) = inside[l];
            int strip = Math.Max(lo, w - hi);
            Tensor? both = strip == 0 ? null // both strips in one call, each as wide as the wider (extra columns are exact too)
                : u.Core(cat([u.Window(left, 0, h, 0, strip, 0, width), u.Window(right, 0, h, w - strip, w, width - (int)right.shape[3], width)], 0));

            // Columns [c0, c1) of every crop's map: left strip, then the band's window, then the right strip.
            Tensor Columns(int c0, int c1)
            {
                var pieces = new List<Tensor>();
                int leftEnd = Math.Min(c1, strip), rightStart = Math.Max(Math.Max(c0, strip), w - strip);
                if (c0 < leftEnd) pieces.Add(both![..count, .., .., c0..leftEnd]);
                int b0 = Math.Max(c0, leftEnd), b1 = Math.Min(c1, rightStart);
                if (b0 < b1)
                    pieces.Add(stack(positions.Select(p =>
                    {
                        int shift = (p.X - p.X % deepest) / strides[l];
                        return bands[(p.Y, p.X % deepest)][l][0, .., .., (shift + b0)..(shift + b1)];
                    }).ToArray()));
                if (rightStart < c1) pieces.Add(both![count.., .., .., (rightStart - (w - strip))..(c1 - (w - strip))]);
                return pieces.Count == 1 ? pieces[0] : cat(pieces, 3);
            }

            if (l == units.Count - 1) { left = right = Columns(0, w); width = w; break; }
            var next = units[l + 1];
            var (nlo, nhi) = inside[l + 1];
            var (eLeft, eRight) = next.EdgesRead(Math.Max(nlo, next.OutSize(w) - nhi), w);
            if (eLeft + eRight >= w || eLeft == 0 || eRight == 0) left = right = Columns(0, w);
            else { left = Columns(0, eLeft); right = Columns(w - eRight, w); }
            width = w;
        }
        return left;
    }

    Tensor PatchPrefix(int start, int count)
    {
        var x = dataset.Batch(start, count);
        var (ph, pw) = dataset.PatchSize!.Value;
        var rows = new (int Lo, int Hi)[count];
        var cols = new (int Lo, int Hi)[count];
        for (int i = 0; i < count; i++)
        {
            var (py, px) = dataset.PositionAt(start + i);
            rows[i] = (py, py + ph);
            cols[i] = (px, px + pw);
        }
        for (int l = 0; l < units.Count; l++)
        {
            var u = units[l];
            int size = (int)x.shape[2], outSize = u.OutSize(size);
            for (int i = 0; i < count; i++)
            {
                rows[i] = u.Touched(rows[i].Lo, rows[i].Hi, size);
                cols[i] = u.Touched(cols[i].Lo, cols[i].Hi, size);
            }
                var y = blank![l].expand(count, -1, -1, -1).contiguous();
            // One shape for every position (the longest over all offsets), moved inside the map: extra outputs are exact too.
            int dr = windows[l].Rows, dc = windows[l].Cols;
            if (rows.Any(r => r.Hi - r.Lo > dr) || cols.Any(c => c.Hi - c.Lo > dc))
                throw new InvalidOperationException($"reuse: a patch touches more of {u.Name} than the cost model found");
            if (dr > 0 && dc > 0)
            {
                var origin = new (int R, int C)[count];
                var windows = new Tensor[count];
                for (int i = 0; i < count; i++)
                {
                    origin[i] = (Math.Min(rows[i].Lo, outSize - dr), Math.Min(cols[i].Lo, outSize - dc));
                    windows[i] = u.Window(x[i..(i + 1)], origin[i].R, origin[i].R + dr, origin[i].C, origin[i].C + dc);
                }
                var computed = u.Core(cat(windows, 0));
                for (int i = 0; i < count; i++)
                {
                    if (rows[i].Hi <= rows[i].Lo || cols[i].Hi <= cols[i].Lo) continue;
                    var (r, c) = origin[i];
                    y[i, .., r..(r + dr), c..(c + dc)].copy_(computed[i]);
                }
            }
            x = y;
        }
        return x;
    }

    public void Dispose()
    {
        foreach (var maps in bands.Values) foreach (var t in maps) t.Dispose();
        bands.Clear();
        if (blank is not null) foreach (var t in blank) t.Dispose();
    }
}
