using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Runs.Reuse;

/// <summary>A half-open interval [Lo, Hi) of rows or columns of a map.</summary>
public readonly record struct Interval(int Lo, int Hi)
{
    public int Length => Math.Max(0, Hi - Lo);
    public bool IsEmpty => Hi <= Lo;
    public Interval Intersect(Interval o) => new(Math.Max(Lo, o.Lo), Math.Max(Math.Max(Lo, o.Lo), Math.Min(Hi, o.Hi)));
    public Interval Hull(Interval o) => IsEmpty ? o : o.IsEmpty ? this : new(Math.Min(Lo, o.Lo), Math.Max(Hi, o.Hi));
}

/// <summary>How a windowed op fills what lies outside the map: zeros (conv, avg pool), -inf (max pool), reflection (BlurPool).</summary>
public enum PadFill { Zeros, NegativeInfinity, Reflect }

/// <summary>One axis of a windowed op: output o reads the padded input o*Stride - PadBefore ... o*Stride - PadBefore + Kernel - 1.</summary>
public readonly record struct Axis(int Kernel, int Stride, int PadBefore, int PadAfter)
{
    public static readonly Axis Pointwise = new(1, 1, 0, 0);

    public int OutSize(int n) => (n + PadBefore + PadAfter - Kernel) / Stride + 1;

    /// <summary>The input indices (outside 0..n-1 where padded) that outputs [o.Lo, o.Hi) read.</summary>
    public Interval Window(Interval o) => new(o.Lo * Stride - PadBefore, (o.Hi - 1) * Stride - PadBefore + Kernel);

    /// <summary>The cost model's extra width of a thin window, in outputs: (Kernel-1)/Stride + 1 (see ReuseEngine.CostModel).</summary>
    public double Halo => (Kernel - 1.0) / Stride + 1;
}

/// <summary>
/// A module evaluated on a window: <see cref="Core"/> is the module on an input already padded as the module pads, so
/// any block of its outputs can be computed from the input window it reads (the window algebra, docs/reuse.md).
/// Pointwise modules (ReLU, ReLU6, eval batch norm) have kernel 1 and no padding.
/// </summary>
public sealed class WindowOp
{
    public required string Name { get; init; }
    public required Axis Rows { get; init; }
    public required Axis Cols { get; init; }
    public required PadFill Fill { get; init; }
    /// <summary>Output channels, or null when they are the input's.</summary>
    public long? OutChannels { get; init; }
    /// <summary>Multiply-adds (or comparisons) per output element: the cost model's unit; 0 for pointwise modules.</summary>
    public required double MacsPerOutput { get; init; }
    public required Func<Tensor, Tensor> Core { get; init; }

    public Axis Along(int axis) => axis == 0 ? Rows : Cols;

    /// <summary>The input indices (inside 0..n-1, reflection followed) that outputs <paramref name="o"/> read.</summary>
    public Interval Reads(int axis, Interval o, int n)
    {
        var w = Along(axis).Window(o);
        int lo = Math.Max(w.Lo, 0), hi = Math.Min(w.Hi, n);
        if (Fill == PadFill.Reflect)
        {
            if (w.Lo < 0) hi = Math.Max(hi, Math.Min(n, 1 - w.Lo));         // row -i is row i
            if (w.Hi > n) lo = Math.Min(lo, Math.Max(0, 2 * n - 1 - w.Hi)); // row n-1+i is row n-1-i
        }
        return new(lo, hi);
    }

    /// <summary>Outputs whose window lies inside the input span <paramref name="r"/> and reads no padding.</summary>
    public Interval Inside(int axis, Interval r, int n)
    {
        var a = Along(axis);
        int outSize = a.OutSize(n);
        int lo = Math.Clamp(CeilDiv(r.Lo + a.PadBefore, a.Stride), 0, outSize);
        int hi = Math.Clamp(FloorDiv(r.Hi - a.Kernel + a.PadBefore, a.Stride) + 1, 0, outSize);
        return new(lo, Math.Max(lo, hi));
    }

    /// <summary>Outputs that read any of the input span <paramref name="r"/> (through reflection too).</summary>
    public Interval Touched(int axis, Interval r, int n)
    {
        int outSize = Along(axis).OutSize(n);
        if (r.IsEmpty) return new(0, 0);
        int lo = 0;
        while (lo < outSize && Reads(axis, new(lo, lo + 1), n).Hi <= r.Lo) lo++;
        int hi = outSize;
        while (hi > lo && Reads(axis, new(hi - 1, hi), n).Lo >= r.Hi) hi--;
        return new(lo, hi);
    }

    static int FloorDiv(int a, int b) => (int)Math.Floor((double)a / b);
    static int CeilDiv(int a, int b) => (int)Math.Ceiling((double)a / b);
}

/// <summary>
/// A block as a small graph over its input: windowed ops, residual sums and channel concatenations (DenseNet).
/// Geometry (sizes, what equals a wider map, what a change touches) and evaluation on windows both walk this graph.
/// </summary>
public abstract class WindowNode
{
    public static readonly WindowNode Input = new InputNode();
    public WindowNode Then(WindowOp op) => new OpNode(op, this);

    sealed class InputNode : WindowNode;
}

public sealed class OpNode(WindowOp op, WindowNode x) : WindowNode
{
    public WindowOp Op { get; } = op;
    public WindowNode X { get; } = x;
}

/// <summary>A + B (residual) or cat([A, B], channels) (dense).</summary>
public sealed class MergeNode(WindowNode a, WindowNode b, bool concat) : WindowNode
{
    public WindowNode A { get; } = a;
    public WindowNode B { get; } = b;
    public bool Concat { get; } = concat;
}

/// <summary>
/// One block's outputs [Rows) x [Cols) computed from the input window [InRows) x [InCols): <see cref="Run"/> takes that
/// window of every image of a batch [B,C,h,w] and returns the outputs. Windows at the map's edges are padded inside
/// (as each module pads); two plans with the same <see cref="Key"/> cut, pad and compute identically, so windows of
/// several positions with one key run as one batch.
/// </summary>
public sealed class WindowPlan
{
    public required string Key { get; init; }
    public required Interval InRows { get; init; }
    public required Interval InCols { get; init; }
    public required Interval Rows { get; init; }
    public required Interval Cols { get; init; }
    /// <summary>Every op's computed outputs and its whole map: (op, rows, cols, map rows, map cols, channels).</summary>
    public required IReadOnlyList<(WindowOp Op, Interval Rows, Interval Cols, int H, int W, long C)> Ops { get; init; }
    public required Func<Tensor, Tensor> Run { get; init; }
}

public static class WindowGraph
{
    /// <summary>Size along one axis of the node's map for an input map <paramref name="n"/> long.</summary>
    public static int Size(WindowNode node, int axis, int n) => node switch
    {
        OpNode o => o.Op.Along(axis).OutSize(Size(o.X, axis, n)),
        MergeNode m => Size(m.A, axis, n),
        _ => n,
    };

    public static long Channels(WindowNode node, long c) => node switch
    {
        OpNode o => o.Op.OutChannels ?? Channels(o.X, c),
        MergeNode { Concat: true } m => Channels(m.A, c) + Channels(m.B, c),
        MergeNode m => Channels(m.A, c),
        _ => c,
    };

    /// <summary>Cumulative stride along one axis (output o sits over input o*stride); null when branches disagree.</summary>
    public static int? Stride(WindowNode node, int axis) => node switch
    {
        OpNode o => Stride(o.X, axis) * o.Op.Along(axis).Stride,
        MergeNode m => Stride(m.A, axis) is int a && Stride(m.B, axis) == a ? a : null,
        _ => 1,
    };

    /// <summary>Outputs that equal the wider map's where the input does on <paramref name="r"/> (crop: away from the crop's padding).</summary>
    public static Interval Inside(WindowNode node, int axis, Interval r, int n) => node switch
    {
        OpNode o => o.Op.Inside(axis, Inside(o.X, axis, r, n), Size(o.X, axis, n)),
        MergeNode m => Inside(m.A, axis, r, n).Intersect(Inside(m.B, axis, r, n)),
        _ => r,
    };

    /// <summary>Outputs that read any of the input span <paramref name="r"/> (patch: where the map differs from the blank canvas's).</summary>
    public static Interval Touched(WindowNode node, int axis, Interval r, int n) => node switch
    {
        OpNode o => o.Op.Touched(axis, Touched(o.X, axis, r, n), Size(o.X, axis, n)),
        MergeNode m => Touched(m.A, axis, r, n).Hull(Touched(m.B, axis, r, n)),
        _ => r,
    };

    /// <summary>
    /// The plan that computes the block's outputs <paramref name="rows"/> x <paramref name="cols"/> of an input map
    /// <paramref name="h"/> x <paramref name="w"/> with <paramref name="channels"/> channels: every node computes exactly what
    /// the nodes after it read (backward), from windows of what the nodes before it computed (forward).
    /// </summary>
    public static WindowPlan Plan(WindowNode root, Interval rows, Interval cols, int h, int w, long channels)
    {
        var targets = new Dictionary<WindowNode, (Interval R, Interval C)>(ReferenceEqualityComparer.Instance);
        Interval inRows = default, inCols = default;
        void Need(WindowNode node, Interval r, Interval c)
        {
            if (ReferenceEquals(node, WindowNode.Input)) { inRows = inRows.Hull(r); inCols = inCols.Hull(c); return; }
            if (!targets.TryAdd(node, (r, c))) throw new InvalidOperationException("reuse: a block's graph reuses a node other than its input");
            switch (node)
            {
                case OpNode o:
                    Need(o.X, o.Op.Reads(0, r, Size(o.X, 0, h)), o.Op.Reads(1, c, Size(o.X, 1, w)));
                    break;
                case MergeNode m:
                    Need(m.A, r, c);
                    Need(m.B, r, c);
                    break;
            }
        }
        Need(root, rows, cols);

        var key = new StringBuilder();
        var ops = new List<(WindowOp, Interval, Interval, int, int, long)>();
        // Returns how to compute the node's target from the batch of input windows, and the span it covers.
        (Func<Tensor, Tensor> Eval, Interval R, Interval C) Emit(WindowNode node)
        {
            if (ReferenceEquals(node, WindowNode.Input)) return (x => x, inRows, inCols);
            var (r, c) = targets[node];
            switch (node)
            {
                case OpNode o:
                {
                    var (child, cr, cc) = Emit(o.X);
                    int n0 = Size(o.X, 0, h), n1 = Size(o.X, 1, w);
                    var cutRows = Cut(o.Op, 0, r, cr, n0, key);
                    var cutCols = Cut(o.Op, 1, c, cc, n1, key);
                    ops.Add((o.Op, r, c, Size(node, 0, h), Size(node, 1, w), Channels(node, channels)));
                    var op = o.Op;
                    double fill = op.Fill == PadFill.NegativeInfinity ? double.NegativeInfinity : 0;
                    return (x => op.Core(Window(child(x), cutRows, cutCols, fill)), r, c);
                }
                case MergeNode m:
                {
                    var (a, ar, ac) = Emit(m.A);
                    var (b, br, bc) = Emit(m.B);
                    int ar0 = r.Lo - ar.Lo, ac0 = c.Lo - ac.Lo, br0 = r.Lo - br.Lo, bc0 = c.Lo - bc.Lo, dr = r.Length, dc = c.Length;
                    key.Append(FormattableString.Invariant($"m{ar0},{ac0},{br0},{bc0},{dr},{dc};"));
                    bool concat = m.Concat;
                    return (x =>
                    {
                        var left = a(x)[.., .., ar0..(ar0 + dr), ac0..(ac0 + dc)];
                        var right = b(x)[.., .., br0..(br0 + dr), bc0..(bc0 + dc)];
                        return concat ? cat([left, right], 1) : left + right;
                    }, r, c);
                }
                default:
                    throw new InvalidOperationException($"reuse: unknown node {node.GetType().Name}");
            }
        }
        var (eval, outRows, outCols) = Emit(root);
        key.Append(FormattableString.Invariant($"in{inRows.Length},{inCols.Length}"));
        return new WindowPlan { Key = key.ToString(), InRows = inRows, InCols = inCols, Rows = outRows, Cols = outCols, Ops = ops, Run = eval };
    }

    /// <summary>How one axis of an op's input window is cut from what its input node computed: a slice and padding, or reflected indices.</summary>
    sealed record AxisCut(int Start, int Length, int PadBefore, int PadAfter, long[]? Indices);

    static AxisCut Cut(WindowOp op, int axis, Interval outputs, Interval held, int n, StringBuilder key)
    {
        var window = op.Along(axis).Window(outputs);
        int a = Math.Max(window.Lo, 0), b = Math.Min(window.Hi, n), before = a - window.Lo, after = window.Hi - b;
        var reads = op.Reads(axis, outputs, n);
        if (reads.Lo < held.Lo || reads.Hi > held.Hi)
            throw new InvalidOperationException($"reuse: {op.Name} reads {reads} but only {held} was computed");
        if (op.Fill == PadFill.Reflect && before + after > 0)
        {
            var indices = Enumerable.Range(window.Lo, window.Hi - window.Lo)
                .Select(i => (long)((i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i) - held.Lo)).ToArray();
            key.Append('r').AppendJoin(',', indices).Append(';');
            return new AxisCut(0, 0, 0, 0, indices);
        }
        key.Append(FormattableString.Invariant($"s{a - held.Lo},{b - a},{before},{after};"));
        return new AxisCut(a - held.Lo, b - a, before, after, null);
    }

    static Tensor Window(Tensor x, AxisCut rows, AxisCut cols, double fill)
    {
        x = rows.Indices is { } ri ? x.index_select(2, tensor(ri, device: x.device)) : x[.., .., rows.Start..(rows.Start + rows.Length), ..];
        x = cols.Indices is { } ci ? x.index_select(3, tensor(ci, device: x.device)) : x[.., .., .., cols.Start..(cols.Start + cols.Length)];
        int left = cols.Indices is null ? cols.PadBefore : 0, right = cols.Indices is null ? cols.PadAfter : 0;
        int top = rows.Indices is null ? rows.PadBefore : 0, bottom = rows.Indices is null ? rows.PadAfter : 0;
        return left + right + top + bottom == 0 ? x : nn.functional.pad(x, [left, right, top, bottom], PaddingModes.Constant, fill);
    }
}
