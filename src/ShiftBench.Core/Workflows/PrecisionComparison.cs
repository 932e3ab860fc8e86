using ShiftBench.Analysis;
using ShiftBench.Datasets;
using ShiftBench.Models;
using ShiftBench.Runs;
using static TorchSharp.torch;

namespace ShiftBench.Workflows;

/// <summary>Largest and mean absolute difference of two equally long series of values (grids on the same positions).</summary>
public sealed record Deviation(double MaxAbs, double MeanAbs, int Count)
{
    public static Deviation Between(IReadOnlyList<double> reference, IReadOnlyList<double> other)
    {
        if (reference.Count != other.Count)
            throw new ArgumentException($"cannot compare {reference.Count} values with {other.Count}");
        double max = 0, sum = 0;
        for (int i = 0; i < reference.Count; i++)
        {
            double d = Math.Abs(other[i] - reference[i]);
            if (double.IsNaN(d)) return new Deviation(double.NaN, double.NaN, reference.Count); // never hide a NaN in a max
            max = Math.Max(max, d);
            sum += d;
        }
        return new Deviation(max, reference.Count == 0 ? double.NaN : sum / reference.Count, reference.Count);
    }
}

/// <summary>
/// How far one precision's grids are from the reference precision's on the same positions: the cosine grids of
/// every layer against every anchor (all values pooled), the target-class probability, and the share of
/// positions with the same top-1 class. Class entries are null when the dataset has no target class.
/// </summary>
public sealed record PrecisionDeviation(Precision Precision, Precision Reference, int Positions, Deviation Cosine, Deviation? Class, double Top1Agreement);

/// <summary>
/// Grid values of one network at several precisions on the same positions: the first <c>positions</c> positions of
/// the dataset (those `bench` times) against the dataset's anchors, computed with the very functions a run uses
/// (<see cref="CosineGrids.Against"/>, <see cref="ClassGrid.TargetProbabilities"/>).
/// </summary>
public static class PrecisionComparison
{
    /// <summary>Cosines per layer ([positions x anchors] row-major), target probabilities and top-1 classes of one precision.</summary>
    public sealed record Values(IReadOnlyDictionary<string, double[]> Cosines, double[]? ClassProbability, long[] Top1);

    /// <summary>Each precision after the first against the first (normally fp32).</summary>
    public static IReadOnlyList<PrecisionDeviation> Measure(ModelEntry entry, WeightsSource weights, DatasetConfig dataset, string dataDir,
        int positions, int batchSize, Device device, IReadOnlyList<Precision> precisions, IProgress<ProgressUpdate>? progress = null)
    {
        if (precisions.Count < 2) return [];
        using var data = ShiftDataset.Open(dataset, dataDir, device: device);
        var anchors = Anchors.Parse(Anchors.Named, data.Offsets);
        positions = Math.Min(positions, data.Count);
        var values = precisions.Select(p => Compute(entry, weights, data, anchors, positions, batchSize, device, p, progress)).ToList();
        return [.. precisions.Skip(1).Select((p, i) => Compare(values[0], values[i + 1], precisions[0], p, positions))];
    }

    /// <summary>The deviation of <paramref name="other"/> from <paramref name="reference"/> (same layers, anchors and positions).</summary>
    public static PrecisionDeviation Compare(Values reference, Values other, Precision referencePrecision, Precision precision, int positions)
    {
        var cosines = reference.Cosines.Keys.Order(StringComparer.Ordinal).ToList();
        var cosine = Deviation.Between([.. cosines.SelectMany(l => reference.Cosines[l])], [.. cosines.SelectMany(l => other.Cosines[l])]);
        var cls = reference.ClassProbability is { } r && other.ClassProbability is { } o ? Deviation.Between(r, o) : null;
        double same = reference.Top1.Zip(other.Top1).Count(t => t.First == t.Second) / (double)Math.Max(1, reference.Top1.Length);
        return new PrecisionDeviation(precision, referencePrecision, positions, cosine, cls, same);
    }

    static Values Compute(ModelEntry entry, WeightsSource weights, ShiftDataset data, IReadOnlyList<Anchor> anchors, int positions, int batchSize,
        Device device, Precision precision, IProgress<ProgressUpdate>? progress)
    {
        var layers = entry.Layers.Where(l => l != ModelEntry.ClassLayer).ToList();
        using var network = new TorchFeatureNetwork(ModelLoader.Load(entry, weights, device, precision), entry.Taps, precision);
        var rows = layers.ToDictionary(l => l, _ => new List<float[]>());
        void Add(Dictionary<string, Tensor> outputs)
        {
            foreach (var (layer, t) in outputs)
                using (t)
                    if (rows.TryGetValue(layer, out var list)) list.Add(TensorMemory.ToFloatArray(t));
        }
        // The benched positions, then the anchors (one batch).
        for (int start = 0; start < positions; start += batchSize)
        {
            using var scope = NewDisposeScope();
            Add(network.Forward(data.Batch(start, Math.Min(batchSize, positions - start))));
            progress?.Report(new ProgressUpdate($"grid deviation ({precision.Name()})", Math.Min(start + batchSize, positions), positions, "images"));
        }
        using (var scope = NewDisposeScope())
        {
            var anchorImages = cat(anchors.Select(a => data.Batch(a.Row * data.Cols + a.Col, 1)).ToList(), 0);
            Add(network.Forward(anchorImages));
        }

        var cosines = new Dictionary<string, double[]>();
        double[]? probability = null;
        long[] top1 = [];
        foreach (var layer in layers)
        {
            using var scope = NewDisposeScope();
            var all = rows[layer].SelectMany(r => r).ToArray();
            long dim = all.Length / (positions + anchors.Count);
            var features = tensor(all, [positions + anchors.Count, dim]);
            var at = features[..positions];
            var anchorRows = features[positions..];
            if (layer == ModelEntry.LogitsLayer)
            {
                if (data.Config.TargetClass is { } target) probability = ClassGrid.TargetProbabilities(at, target);
                top1 = at.argmax(1).contiguous().data<long>().ToArray();
            }
            cosines[layer] = CosineGrids.Against(at, CosineGrids.AnchorUnits(anchorRows));
        }
        return new Values(cosines, probability, top1);
    }
}
