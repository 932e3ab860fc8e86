using ShiftBench.Output;
using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Analysis;

/// <summary>Cosine similarity of every position's feature vector against anchor positions.</summary>
public static class CosineGrids
{
    const long ChunkBytes = 64L << 20;

    /// <summary>Reads a [positions, dim] feature file in chunks; returns one [rows, cols] grid per anchor.</summary>
    public static double[][,] Compute(string featuresPath, int rows, int cols, IReadOnlyList<Anchor> anchors)
    {
        using var file = NpyRowFile.OpenRead(featuresPath);
        long dim = file.Cols;
        using var scope = NewDisposeScope();
        var anchorRows = new float[anchors.Count * dim];
        for (int a = 0; a < anchors.Count; a++)
            file.ReadRows(anchors[a].Row * cols + anchors[a].Col, anchorRows.AsSpan((int)(a * dim), (int)dim));
        var anchorUnit = AnchorUnits(tensor(anchorRows, [anchors.Count, dim]));

        var grids = anchors.Select(_ => new double[rows, cols]).ToArray();
        int chunk = (int)Math.Max(1, Math.Min(rows * cols, ChunkBytes / (dim * sizeof(float))));
        var buffer = new float[chunk * dim];
        for (int start = 0; start < rows * cols; start += chunk)
        {
            int count = Math.Min(chunk, rows * cols - start);
            file.ReadRows(start, buffer.AsSpan(0, (int)(count * dim)));
            using var inner = NewDisposeScope();
            var values = Against(tensor(buffer, [count, dim])[..count], anchorUnit);
            for (int i = 0; i < count; i++)
                for (int a = 0; a < anchors.Count; a++)
                    grids[a][(start + i) / cols, (start + i) % cols] = values[i * anchors.Count + a];
        }
        return grids;
    }

    /// <summary>Anchor feature rows [anchors, dim] made ready for <see cref="Against"/>.</summary>
    public static Tensor AnchorUnits(Tensor anchorRows) => Unit(anchorRows);

    /// <summary>Cosine of each feature row [count, dim] with each anchor, in float64: [count, anchors] row-major (runs and bench share it).</summary>
    public static double[] Against(Tensor rows, Tensor anchorUnits)
    {
        using var scope = NewDisposeScope();
        return Unit(rows).matmul(anchorUnits.t()).clamp(-1.0, 1.0).to(ScalarType.Float64).contiguous().data<double>().ToArray();
    }

    /// <summary>
    /// A cosine as written: rounding makes the cosine of a vector with itself 1 + 1e-15 or so, and a CSV or colour
    /// scale must never see a cosine outside [-1, 1] (Against clamps the same way; every other cosine calls this).
    /// </summary>
    public static double Clamp(double cosine) => Math.Clamp(cosine, -1.0, 1.0);

    /// <summary>Rows scaled to unit length in float64 (a zero vector stays zero, as in F.normalize).</summary>
    static Tensor Unit(Tensor rows) => nn.functional.normalize(rows.to(ScalarType.Float64), p: 2, dim: 1, eps: 1e-12);
}

/// <summary>Target-class softmax probability and top-1 class per position, from the stored logits.</summary>
public static class ClassGrid
{
    /// <summary>How many best classes per position top5.npy holds.</summary>
    public const int TopK = 5;

    /// <summary>Target probability grid, top-1 class and the TopK best classes (best first) per position, y-major.</summary>
    public static (double[,] Probability, long[] Top1, long[] TopK) Compute(string logitsPath, int rows, int cols, int targetClass)
    {
        var grids = new double[rows, cols];
        var top1 = new long[rows * cols];
        var topK = new long[rows * cols * TopK];
        using var file = NpyRowFile.OpenRead(logitsPath);
        int classes = (int)file.Cols, chunk = 1024;
        var buffer = new float[chunk * classes];
        for (int start = 0; start < rows * cols; start += chunk)
        {
            int count = Math.Min(chunk, rows * cols - start);
            file.ReadRows(start, buffer.AsSpan(0, count * classes));
            using var scope = NewDisposeScope();
            var (probability, best, ranked) = Rows(tensor(buffer, [chunk, classes])[..count], targetClass);
            for (int i = 0; i < count; i++)
            {
                grids[(start + i) / cols, (start + i) % cols] = probability[i];
                top1[start + i] = best[i];
                for (int j = 0; j < TopK; j++) topK[(start + i) * TopK + j] = ranked[i * TopK + j];
            }
        }
        return (grids, top1, topK);
    }

    /// <summary>For each logits row [count, classes]: target probability, top-1 class and the TopK best classes (best first, -1 past the last class).</summary>
    public static (double[] Probability, long[] Top1, long[] TopK) Rows(Tensor logits, int targetClass)
    {
        using var scope = NewDisposeScope();
        int count = (int)logits.shape[0], classes = (int)logits.shape[1], k = Math.Min(TopK, classes);
        var probability = TargetProbabilities(logits, targetClass);
        var best = logits.argmax(1).contiguous().data<long>().ToArray();
        var ranked = logits.topk(k, 1).indexes.contiguous().data<long>().ToArray();
        var topK = new long[count * TopK];
        for (int i = 0; i < count; i++)
            for (int j = 0; j < TopK; j++) topK[i * TopK + j] = j < k ? ranked[i * k + j] : -1;
        return (probability, best, topK);
    }

    /// <summary>Softmax probability of the target class for each logits row [count, classes] (runs and bench share it).</summary>
    public static double[] TargetProbabilities(Tensor logits, int targetClass)
    {
        using var scope = NewDisposeScope();
        return nn.functional.softmax(logits, 1)[.., targetClass].to(ScalarType.Float64).contiguous().data<double>().ToArray();
    }
}
