using System.Runtime.InteropServices;
using ShiftBench.Output;
using static TorchSharp.torch;

namespace ShiftBench.Analysis;

/// <summary>Global, local and the centre anchor's cosine grid (for the period) of one layer, as summary.json needs them.</summary>
public sealed record StreamedLayer(double Global, double Local, double[,] Centre);

/// <summary>
/// Every per-layer result of a run, computed while the positions stream through the network, so no feature
/// matrix has to be kept (`run` stores features only with --features). Positions arrive y-major in batches.
/// <list type="bullet">
/// <item>Cosine and equivariance grids: each position against the anchors' rows, computed before the loop
/// (the batch holding each anchor, exactly as the loop computes it).</item>
/// <item>global: from the running sum of the normalised features; local: each position against its left and upper
/// neighbour, read from a ring of the last cols + batch rows kept on disk in the work folder.</item>
/// <item>Class grid: target probability, top-1 and top-5 per position.</item>
/// </list>
/// Per-position results go to files in the work folder at their offsets; what stays in memory across batches is
/// one sum and the anchors' rows per layer (<see cref="HeldValues"/>), whatever the number of positions.
/// <see cref="Commit"/> writes the running sums with the position they reach, so a run resumes exactly.
/// </summary>
public sealed class StreamingGrids : IDisposable
{
    /// <summary>What a run streams: the grid, the anchors (their grids are written), the layers and where `@map` equivariance applies.</summary>
    public sealed record Setup(int Rows, int Cols, int BatchSize, IReadOnlyList<Anchor> Anchors, IReadOnlyList<string> Layers,
        IReadOnlyDictionary<string, MapShape> Maps, Func<MapShape, int> CellStride, IReadOnlyList<int> Offsets, double PixelsPerOffset,
        int Direction, bool Circular, string? LogitsLayer, int? TargetClass);

    const string StateFile = "stream-state.bin";
    const int StateVersion = 2;
    const string CentreName = "c";

    readonly Setup setup;
    readonly string workDir;
    readonly IReadOnlyList<Anchor> anchors; // the written anchors, then the centre when it is not one of them
    readonly int positions;
    readonly Dictionary<string, Layer> state = [];
    FileStream? classValues;

    sealed class Layer
    {
        public required int Dim;
        public required float[] AnchorRows;  // [anchors, dim]
        public required double[] Sum;        // Σ f̂ over the positions seen
        public double LocalSum;
        public long LocalPairs;
        public FileStream? Ring, Values;
        public Tensor? AnchorUnits;
    }

    public StreamingGrids(Setup setup, string workDir, bool resume)
    {
        this.setup = setup;
        this.workDir = workDir;
        positions = setup.Rows * setup.Cols;
        anchors = setup.Anchors.Any(a => a.Row == setup.Rows / 2 && a.Col == setup.Cols / 2)
            ? setup.Anchors
            : [.. setup.Anchors, new Anchor(CentreName, setup.Rows / 2, setup.Cols / 2, setup.Offsets[setup.Rows / 2], setup.Offsets[setup.Cols / 2])];
        if (resume) Load();
    }

    /// <summary>
    /// The position the saved state of <paramref name="workDir"/> reaches, or null when there is none or it was saved
    /// for other anchors, layers or batches (which the run's fingerprint does not cover).
    /// </summary>
    public static int? SavedNext(string workDir, Setup setup)
    {
        string path = Path.Combine(workDir, StateFile);
        if (!File.Exists(path)) return null;
        try
        {
            using var reader = new BinaryReader(File.OpenRead(path));
            if (reader.ReadInt32() != StateVersion) return null;
            int next = reader.ReadInt32();
            return reader.ReadString() == new StreamingGrids(setup, workDir, resume: false).Key ? next : null;
        }
        catch (EndOfStreamException) { return null; }
    }

    /// <summary>What the saved state depends on besides the fingerprint: anchor positions, layers, batch size.</summary>
    string Key => string.Join(";", anchors.Select(a => $"{a.Row},{a.Col}")) + "|" + string.Join(",", setup.Layers) + "|" + setup.LogitsLayer + "|" + setup.BatchSize;

    /// <summary>Whether the anchors' rows are still to be given (<see cref="TakeAnchors"/>) before the first batch.</summary>
    public bool NeedsAnchors => state.Count == 0;

    /// <summary>The batches (start, count) of the loop that hold an anchor, for computing the anchors' rows first.</summary>
    public IEnumerable<(int Start, int Count)> AnchorBatches() =>
        anchors.Select(a => (a.Row * setup.Cols + a.Col) / setup.BatchSize * setup.BatchSize).Distinct().Order()
            .Select(start => (start, Math.Min(setup.BatchSize, positions - start)));

    /// <summary>Keeps the rows of the anchors inside the batch [start, start + count); <paramref name="rows"/> holds count rows per layer.</summary>
    public void TakeAnchors(int start, int count, IReadOnlyDictionary<string, ReadOnlyMemory<float>> rows)
    {
        foreach (var (layer, memory) in rows)
        {
            var values = memory.Span;
            int dim = values.Length / count;
            if (!state.TryGetValue(layer, out var s))
                state[layer] = s = new Layer { Dim = dim, AnchorRows = new float[anchors.Count * dim], Sum = new double[IsGridLayer(layer) ? dim : 0] };
            for (int a = 0; a < anchors.Count; a++)
            {
                int p = anchors[a].Row * setup.Cols + anchors[a].Col;
                if (p >= start && p < start + count) values.Slice((p - start) * dim, dim).CopyTo(s.AnchorRows.AsSpan(a * dim, dim));
            }
        }
    }

    bool IsGridLayer(string layer) => setup.Layers.Contains(layer);

    /// <summary>Streams the batch [start, start + count): <paramref name="rows"/> holds count rows per layer.</summary>
    public void Add(int start, int count, IReadOnlyDictionary<string, ReadOnlyMemory<float>> rows)
    {
        foreach (var layer in setup.Layers)
        {
            var s = Open(layer);
            var batch = rows[layer].Span;
            WriteValues(s.Values!, start, count, PositionValues(layer, s, start, count, batch));
            AddNeighbours(s, start, count, batch);
        }
        if (setup.LogitsLayer is { } logits && setup.TargetClass is { } target)
        {
            var s = Open(logits);
            // A network whose logits width its file leaves open (an ONNX named axis) is checked at its first batch.
            if (target >= s.Dim)
                throw new ShiftBenchException($"--layers class: the dataset's target class {target} is past the {s.Dim} values of the network's logits; " +
                    "leave class out of --layers, or name the tensor holding the class scores with --logits");
            using var scope = NewDisposeScope();
            var (probability, top1, topK) = ClassGrid.Rows(tensor(rows[logits].ToArray(), [count, s.Dim]), target);
            var values = new double[count * ClassWidth];
            for (int i = 0; i < count; i++)
            {
                values[i * ClassWidth] = probability[i];
                values[i * ClassWidth + 1] = top1[i];
                for (int j = 0; j < ClassGrid.TopK; j++) values[i * ClassWidth + 2 + j] = topK[i * ClassGrid.TopK + j];
            }
            classValues ??= OpenFile(ClassFile);
            WriteValues(classValues, start, count, values);
        }
    }

    const int ClassWidth = 2 + ClassGrid.TopK;
    const string ClassFile = "stream-class.bin";

    /// <summary>Per position: the cosine with each anchor, then (an `@map` layer) the equivariance distance to each written anchor.</summary>
    double[] PositionValues(string layer, Layer s, int start, int count, ReadOnlySpan<float> batch)
    {
        int width = Width(layer);
        var values = new double[count * width];
        using (var scope = NewDisposeScope())
        {
            s.AnchorUnits ??= CosineGrids.AnchorUnits(tensor(s.AnchorRows, [anchors.Count, s.Dim])).DetachFromDisposeScope();
            var cosines = CosineGrids.Against(tensor(batch.ToArray(), [count, s.Dim]), s.AnchorUnits);
            for (int i = 0; i < count; i++)
                for (int a = 0; a < anchors.Count; a++) values[i * width + a] = cosines[i * anchors.Count + a];
        }
        if (setup.Maps.TryGetValue(layer, out var shape))
        {
            int cellStride = setup.CellStride(shape);
            for (int i = 0; i < count; i++)
            {
                int p = start + i, row = p / setup.Cols, col = p % setup.Cols;
                for (int a = 0; a < setup.Anchors.Count; a++)
                {
                    var anchor = setup.Anchors[a];
                    int? ky = Equivariance.WholeCells((setup.Offsets[row] - setup.Offsets[anchor.Row]) * setup.PixelsPerOffset, cellStride, setup.Direction);
                    int? kx = Equivariance.WholeCells((setup.Offsets[col] - setup.Offsets[anchor.Col]) * setup.PixelsPerOffset, cellStride, setup.Direction);
                    values[i * width + anchors.Count + a] = ky is null || kx is null ? double.NaN
                        : Equivariance.Distance(s.AnchorRows.AsSpan(a * s.Dim, s.Dim), batch.Slice(i * s.Dim, s.Dim), shape, ky.Value, kx.Value, setup.Circular);
                }
            }
        }
        return values;
    }

    /// <summary>The cell stride of an `@map` layer (pixels per map cell).</summary>
    public int CellStrideOf(string layer) => setup.CellStride(setup.Maps[layer]);

    int Width(string layer) => anchors.Count + (setup.Maps.ContainsKey(layer) ? setup.Anchors.Count : 0);

    /// <summary>
    /// Adds each position's f̂ to the sum and its cosine with the left and upper neighbours to local, in the order of
    /// <see cref="InvarianceMetrics.FeatureAccumulator"/> (so both give the same numbers), then keeps the batch in the ring.
    /// </summary>
    void AddNeighbours(Layer s, int start, int count, ReadOnlySpan<float> batch)
    {
        int dim = s.Dim, ringRows = setup.Cols + setup.BatchSize;
        var unit = new double[dim];
        var left = new double[dim]; // f̂ of p - 1: the previous iteration's unit, or read for the batch's first position
        var neighbour = new double[dim];
        var raw = new float[dim];
        void UnitOf(int p, ReadOnlySpan<float> batchRows, double[] into)
        {
            ReadOnlySpan<float> row;
            if (p >= start) row = batchRows.Slice((p - start) * dim, dim);
            else
            {
                s.Ring!.Position = (long)(p % ringRows) * dim * sizeof(float);
                s.Ring.ReadExactly(MemoryMarshal.AsBytes(raw.AsSpan()));
                row = raw;
            }
            Normalise(row, into);
        }
        if (start % setup.Cols > 0) UnitOf(start - 1, batch, left);
        for (int p = start; p < start + count; p++)
        {
            UnitOf(p, batch, unit);
            for (int k = 0; k < dim; k++) s.Sum[k] += unit[k];
            if (p % setup.Cols > 0) { s.LocalSum += Dot(unit, left); s.LocalPairs++; }
            if (p >= setup.Cols) { UnitOf(p - setup.Cols, batch, neighbour); s.LocalSum += Dot(unit, neighbour); s.LocalPairs++; }
            (unit, left) = (left, unit);
        }
        // Rows go in after every read: a slot is reused only cols + batch positions later, so a batch cut short
        // (an interrupted run) never overwrites a row that resuming at its start still needs.
        for (int p = start; p < start + count; p++)
        {
            s.Ring!.Position = (long)(p % ringRows) * dim * sizeof(float);
            s.Ring.Write(MemoryMarshal.AsBytes(batch.Slice((p - start) * dim, dim)));
        }
    }

    /// <summary>f̂ in float64 (a zero vector stays zero, as in F.normalize), exactly as FeatureAccumulator computes it.</summary>
    static void Normalise(ReadOnlySpan<float> row, double[] unit)
    {
        double norm = 0;
        for (int k = 0; k < row.Length; k++) { double v = row[k]; unit[k] = v; norm += v * v; }
        norm = Math.Sqrt(norm);
        double scale = norm > 1e-12 ? 1 / norm : 0;
        for (int k = 0; k < row.Length; k++) unit[k] *= scale;
    }

    static double Dot(double[] a, double[] b)
    {
        double d = 0;
        for (int k = 0; k < a.Length; k++) d += a[k] * b[k];
        return d;
    }

    Layer Open(string layer)
    {
        if (!state.TryGetValue(layer, out var s)) throw new InvalidOperationException($"no anchor rows for layer {layer}: call TakeAnchors first");
        if (IsGridLayer(layer))
        {
            s.Ring ??= OpenFile($"stream-ring-{layer}.bin");
            s.Values ??= OpenFile($"stream-values-{layer}.bin");
        }
        return s;
    }

    FileStream OpenFile(string name) => new(Path.Combine(workDir, name), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);

    static void WriteValues(FileStream file, int start, int count, double[] values)
    {
        file.Position = (long)start * (values.Length / count) * sizeof(double);
        file.Write(MemoryMarshal.AsBytes(values.AsSpan()));
    }

    /// <summary>
    /// Makes the batches so far durable: rings and per-position files flushed, then the anchors' rows, running sums
    /// and <paramref name="next"/> written in one file (atomically), before the run's progress says <paramref name="next"/>.
    /// </summary>
    public void Commit(int next)
    {
        foreach (var s in state.Values) { s.Ring?.Flush(flushToDisk: true); s.Values?.Flush(flushToDisk: true); }
        classValues?.Flush(flushToDisk: true);
        AtomicFile.Write(Path.Combine(workDir, StateFile), tmp =>
        {
            using var writer = new BinaryWriter(File.Create(tmp));
            writer.Write(StateVersion);
            writer.Write(next);
            writer.Write(Key);
            writer.Write(state.Count);
            foreach (var (layer, s) in state.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                writer.Write(layer);
                writer.Write(s.Dim);
                writer.Write(MemoryMarshal.AsBytes(s.AnchorRows.AsSpan()));
                writer.Write(s.Sum.Length);
                writer.Write(MemoryMarshal.AsBytes(s.Sum.AsSpan()));
                writer.Write(s.LocalSum);
                writer.Write(s.LocalPairs);
            }
        });
    }

    void Load()
    {
        using var reader = new BinaryReader(File.OpenRead(Path.Combine(workDir, StateFile)));
        reader.ReadInt32(); reader.ReadInt32(); reader.ReadString();
        int layers = reader.ReadInt32();
        for (int l = 0; l < layers; l++)
        {
            string name = reader.ReadString();
            int dim = reader.ReadInt32();
            var s = new Layer { Dim = dim, AnchorRows = new float[anchors.Count * dim], Sum = [] };
            reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(s.AnchorRows.AsSpan()));
            s.Sum = new double[reader.ReadInt32()];
            reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(s.Sum.AsSpan()));
            s.LocalSum = reader.ReadDouble();
            s.LocalPairs = reader.ReadInt64();
            state[name] = s;
        }
    }

    /// <summary>
    /// Numbers kept in memory from one batch to the next (anchor rows, running sums and their counters); the
    /// per-position results live in the work folder, so this does not grow with the number of positions.
    /// </summary>
    internal long HeldValues => state.Values.Sum(s => s.AnchorRows.LongLength + s.Sum.LongLength + 2);

    /// <summary>The cosine grid of each written anchor (the order of Setup.Anchors).</summary>
    public double[][,] Cosines(string layer) => [.. Enumerable.Range(0, setup.Anchors.Count).Select(a => Column(layer, a))];

    /// <summary>The equivariance distance grid of each written anchor, or null when the layer is not an `@map` layer.</summary>
    public double[][,]? EquivarianceGrids(string layer) => setup.Maps.ContainsKey(layer)
        ? [.. Enumerable.Range(0, setup.Anchors.Count).Select(a => Column(layer, anchors.Count + a))]
        : null;

    /// <summary>What summary.json needs of each grid layer: global, local and the centre's cosine grid.</summary>
    public IReadOnlyDictionary<string, StreamedLayer> Summaries() => setup.Layers.ToDictionary(l => l, l =>
    {
        var s = state[l];
        double n = positions, squared = 0;
        foreach (var v in s.Sum) squared += v * v;
        int centre = anchors.ToList().FindIndex(a => a.Row == setup.Rows / 2 && a.Col == setup.Cols / 2);
        return new StreamedLayer((squared - n) / (n * (n - 1)), s.LocalPairs == 0 ? double.NaN : s.LocalSum / s.LocalPairs, Column(l, centre));
    });

    /// <summary>Target probability grid, top-1 and top-5 classes per position (y-major), as ClassGrid.Compute gives them.</summary>
    public (double[,] Probability, long[] Top1, long[] TopK) Classes()
    {
        if (setup.LogitsLayer is null || setup.TargetClass is null) throw new InvalidOperationException("no class layer streamed");
        // A resume that had no batch left to compute has not opened it yet.
        classValues ??= OpenFile(ClassFile);
        var values = ReadAll(classValues, ClassWidth);
        var probability = new double[setup.Rows, setup.Cols];
        var top1 = new long[positions];
        var topK = new long[positions * ClassGrid.TopK];
        for (int p = 0; p < positions; p++)
        {
            probability[p / setup.Cols, p % setup.Cols] = values[p * ClassWidth];
            top1[p] = (long)values[p * ClassWidth + 1];
            for (int j = 0; j < ClassGrid.TopK; j++) topK[p * ClassGrid.TopK + j] = (long)values[p * ClassWidth + 2 + j];
        }
        return (probability, top1, topK);
    }

    double[,] Column(string layer, int column)
    {
        int width = Width(layer);
        var values = ReadAll(Open(layer).Values!, width);
        var grid = new double[setup.Rows, setup.Cols];
        for (int p = 0; p < positions; p++) grid[p / setup.Cols, p % setup.Cols] = values[(long)p * width + column];
        return grid;
    }

    double[] ReadAll(FileStream file, int width)
    {
        var values = new double[(long)positions * width];
        file.Position = 0;
        file.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
        return values;
    }

    public void Dispose()
    {
        foreach (var s in state.Values) { s.Ring?.Dispose(); s.Values?.Dispose(); s.AnchorUnits?.Dispose(); }
        classValues?.Dispose();
    }
}
