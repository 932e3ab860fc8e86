using ShiftBench.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ShiftBench.Runs.Reuse;

/// <summary>
/// One step of a sequential convolutional prefix, seen as a sliding window: output row r reads input rows
/// r*Stride - PadBefore ... r*Stride - PadBefore + Kernel - 1 (the same along columns). <see cref="Core"/> is the
/// step on an input that is already padded (by <see cref="Pad"/>), so it can be run on any window of a map:
/// where the window reaches the map's edge it is padded as the module pads; where it is cut inside the map the
/// real neighbours are there. Pointwise modules that follow (ReLU, eval batch norm) are folded into the step.
/// </summary>
public sealed class ReuseUnit
{
    public required string Name { get; init; }          // module path of the step's last module, e.g. features.16
    public required int FirstModule { get; init; }      // index in the Sequential of the step's first module
    public required int Kernel { get; init; }
    public required int Stride { get; init; }
    public required int PadBefore { get; init; }
    public required int PadAfter { get; init; }
    public required bool Reflect { get; init; }         // BlurPool pads by reflection, convolutions by zeros
    public required long OutChannels { get; set; }
    /// <summary>Multiply-adds (or comparisons) per output element: the cost model's unit.</summary>
    public required double MacsPerOutput { get; init; }
    public required Func<Tensor, Tensor> Core { get; set; }
    public int ModuleCount { get; set; } = 1;

    public int OutSize(int inSize) => (inSize + PadBefore + PadAfter - Kernel) / Stride + 1;

    /// <summary>
    /// The step's output rows [r0,r1) x cols [c0,c1) of every image of <paramref name="x"/> [B,C,H,W]: cuts the
    /// input window those outputs read, pads it where it passes the map's edge, and runs the step on it.
    /// </summary>
    public Tensor ApplyRect(Tensor x, int r0, int r1, int c0, int c1) => Core(Window(x, r0, r1, c0, c1));

    /// <summary>The padded input window that the outputs rows [r0,r1) x cols [c0,c1) read.</summary>
    public Tensor Window(Tensor x, int r0, int r1, int c0, int c1) => Window(x, r0, r1, c0, c1, 0, (int)x.shape[3]);

    /// <summary>
    /// The same when <paramref name="x"/> holds only the map's columns [colOffset, colOffset + its width) of a map
    /// <paramref name="mapWidth"/> wide (a crop's edge columns); the window must lie within them (or the padding).
    /// </summary>
    public Tensor Window(Tensor x, int r0, int r1, int c0, int c1, int colOffset, int mapWidth)
    {
        int h = (int)x.shape[2];
        var (rs, top, bottom) = Span(r0, r1, h);
        var (cs, left, right) = Span(c0, c1, mapWidth);
        if (cs.a < colOffset || cs.b > colOffset + x.shape[3] || (Reflect && (left > 0 && colOffset > 0 || right > 0 && colOffset + x.shape[3] < mapWidth)))
            throw new InvalidOperationException($"reuse: window {cs.a}..{cs.b} of {Name} is outside the columns held, {colOffset}..{colOffset + x.shape[3]}");
        cs = (cs.a - colOffset, cs.b - colOffset);
        if (top + bottom + left + right == 0) return x[.., .., rs.a..rs.b, cs.a..cs.b];
        if (!Reflect) return nn.functional.pad(x[.., .., rs.a..rs.b, cs.a..cs.b], [left, right, top, bottom]);
        // Reflection by index: F.pad needs the cut window wider than the padding, which a thin strip at the edge is not.
        int w = (int)x.shape[3];
        return x.index_select(2, Reflected(rs.a - (int)top, rs.b + (int)bottom, h, x.device))
            .index_select(3, Reflected(cs.a - (int)left, cs.b + (int)right, w, x.device));
    }

    /// <summary>Input columns [0, Left) and [inWidth - Right, inWidth) that the outputs [0, strip) and [outWidth - strip, outWidth) read.</summary>
    public (int Left, int Right) EdgesRead(int strip, int inWidth)
    {
        if (strip == 0) return (0, 0);
        int outWidth = OutSize(inWidth);
        var (left, _, _) = Span(0, strip, inWidth);
        var (right, _, _) = Span(outWidth - strip, outWidth, inWidth);
        return (left.b, inWidth - right.a);
    }

    /// <summary>Indices a..b-1 mirrored into 0..size-1 about the edge rows (PyTorch's reflect: the edge is not repeated).</summary>
    static Tensor Reflected(int a, int b, int size, Device device) =>
        tensor(Enumerable.Range(a, b - a).Select(i => (long)(i < 0 ? -i : i >= size ? 2 * (size - 1) - i : i)).ToArray(), device: device);

    /// <summary>The whole output map (the module's own computation, written as window + <see cref="Core"/>).</summary>
    public Tensor ApplyFull(Tensor x) =>
        ApplyRect(x, 0, OutSize((int)x.shape[2]), 0, OutSize((int)x.shape[3]));

    ((int a, int b), long before, long after) Span(int o0, int o1, int size)
    {
        int a = o0 * Stride - PadBefore, b = (o1 - 1) * Stride - PadBefore + Kernel;
        return ((Math.Max(0, a), Math.Min(size, b)), Math.Max(0, -a), Math.Max(0, b - size));
    }

    /// <summary>
    /// Outputs whose window lies inside the input interval [lo,hi) (and so touches no padding): for a crop, what
    /// still equals the window of the wider band's map.
    /// </summary>
    public (int Lo, int Hi) Inside(int lo, int hi, int inSize)
    {
        int outSize = OutSize(inSize);
        int a = Math.Clamp(CeilDiv(lo + PadBefore, Stride), 0, outSize);
        int b = Math.Min(outSize, FloorDiv(hi - Kernel + PadBefore, Stride) + 1);
        return (a, Math.Max(a, b));
    }

    /// <summary>
    /// Outputs that read any of the input interval [d0,d1) (directly or through the reflection of the padding):
    /// for a patch, where the map differs from the blank canvas's.
    /// </summary>
    public (int Lo, int Hi) Touched(int d0, int d1, int inSize)
    {
        int outSize = OutSize(inSize);
        if (d1 <= d0) return (0, 0);
        if (Reflect && d0 <= PadBefore && d1 > 1) d0 = -PadBefore;                   // rows 1..PadBefore are mirrored above row 0
        if (Reflect && d1 > inSize - 1 - PadAfter && d0 < inSize - 1) d1 = inSize + PadAfter; // and below the last row
        int a = Math.Clamp(CeilDiv(d0 + PadBefore - Kernel + 1, Stride), 0, outSize);
        int b = Math.Min(outSize, FloorDiv(d1 - 1 + PadBefore, Stride) + 1);
        return (a, Math.Max(a, b));
    }

    static int FloorDiv(int a, int b) => (int)Math.Floor((double)a / b);
    static int CeilDiv(int a, int b) => (int)Math.Ceiling((double)a / b);

    /// <summary>
    /// The longest prefix of <paramref name="features"/> (a Sequential) made of steps this class can window:
    /// Conv2d (zeros padding, no dilation), MaxPool2d (no padding, floor mode), BlurPool, with ReLU and BatchNorm2d
    /// folded in. Returns the steps and, when the prefix stops early, the module that stopped it.
    /// </summary>
    public static (List<ReuseUnit> Units, string? StoppedAt) Chain(nn.Module<Tensor, Tensor> features, string prefix, int inChannels = 3)
    {
        var units = new List<ReuseUnit>();
        long channels = inChannels;
        int index = 0;
        foreach (var (name, child) in features.named_children())
        {
            string path = $"{prefix}.{name}";
            if (child is ReLU or BatchNorm2d && units.Count > 0 && units[^1].FirstModule + units[^1].ModuleCount == index)
            {
                var last = units[^1];
                var inner = last.Core;
                var pointwise = (nn.Module<Tensor, Tensor>)child;
                last.Core = t => pointwise.call(inner(t));
                last.ModuleCount++;
                units[^1] = Renamed(last, path);
            }
            else if (child is Conv2d conv && conv.dilation.All(d => d == 1) && conv.padding_mode == PaddingModes.Zeros
                     && conv.padding_type is null
                     && conv.padding is { } pad && pad[0] == pad[1]
                     && conv.kernel_size[0] == conv.kernel_size[1] && conv.stride[0] == conv.stride[1])
            {
                long groups = conv.groups, stride = conv.stride[0];
                var weight = conv.weight!;
                var bias = conv.bias;
                units.Add(new ReuseUnit
                {
                    Name = path, FirstModule = index, Kernel = (int)conv.kernel_size[0], Stride = (int)stride,
                    PadBefore = (int)pad[0], PadAfter = (int)pad[0], Reflect = false,
                    OutChannels = conv.out_channels, MacsPerOutput = weight.shape.Skip(1).Aggregate(1L, (a, b) => a * b),
                    Core = t => nn.functional.conv2d(t, weight, bias, strides: [stride, stride], padding: [0, 0], groups: groups),
                });
                channels = conv.out_channels;
            }
            else if (child is MaxPool2d mp && (mp.padding is null || mp.padding.All(v => v == 0)) && !mp.ceil_mode
                     && (mp.dilation is null || mp.dilation.All(d => d == 1)) && mp.kernel_size.All(v => v == mp.kernel_size[0]))
            {
                long k = mp.kernel_size[0], s = mp.stride is { Length: > 0 } st ? st[0] : k;
                units.Add(new ReuseUnit
                {
                    Name = path, FirstModule = index, Kernel = (int)k, Stride = (int)s, PadBefore = 0, PadAfter = 0, Reflect = false,
                    OutChannels = channels, MacsPerOutput = k * k,
                    Core = t => nn.functional.max_pool2d(t, [k, k], [s, s]),
                });
            }
            else if (child is BlurPool blur)
            {
                int f = blur.FilterSize, before = (f - 1) / 2;
                long s = blur.Stride, c = blur.Channels;
                units.Add(new ReuseUnit
                {
                    Name = path, FirstModule = index, Kernel = f, Stride = (int)s, PadBefore = f == 1 ? 0 : before,
                    PadAfter = f == 1 ? 0 : f - 1 - before, Reflect = f > 1, OutChannels = c, MacsPerOutput = f * f,
                    Core = f == 1 ? t => t[.., .., TensorIndex.Slice(step: s), TensorIndex.Slice(step: s)]
                                  : t => nn.functional.conv2d(t, blur.Filter, strides: [s, s], groups: c),
                });
            }
            else
                return (units, path);
            index++;
        }
        return (units, null);
    }

    static ReuseUnit Renamed(ReuseUnit u, string name) => new()
    {
        Name = name, FirstModule = u.FirstModule, Kernel = u.Kernel, Stride = u.Stride, PadBefore = u.PadBefore,
        PadAfter = u.PadAfter, Reflect = u.Reflect, OutChannels = u.OutChannels, MacsPerOutput = u.MacsPerOutput,
        Core = u.Core, ModuleCount = u.ModuleCount,
    };
}
