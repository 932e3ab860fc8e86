using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ShiftBench.Output;

namespace ShiftBench.Tests;

/// <summary>
/// Writes complete run folders in the documented layout (docs/output.md) from random features,
/// and keeps the arrays so tests can check the metrics against brute-force computations of their own.
/// Layers: `pool` (features-pool.npy and its cosine CSVs) and `class` (class.csv, top1.npy).
/// </summary>
static class FeatureRunFolders
{
    public const int TargetClass = 949;

    public sealed record Run(string Directory, int Rows, int Cols, int Stride, int Dim, float[] Features, double[,] Probability, long[] Top1)
    {
        public int N => Rows * Cols;

        public double Cos(int i, int j)
        {
            double d = 0, a = 0, b = 0;
            for (int k = 0; k < Dim; k++)
            {
                double u = Features[i * Dim + k], v = Features[j * Dim + k];
                d += u * v; a += u * u; b += v * v;
            }
            return d / Math.Sqrt(a * b);
        }

        /// <summary>Brute-force global: the mean over all distinct pairs.</summary>
        public double Global()
        {
            double sum = 0; long pairs = 0;
            for (int i = 0; i < N; i++) for (int j = i + 1; j < N; j++) { sum += Cos(i, j); pairs++; }
            return sum / pairs;
        }

        public double[,] AnchorGrid(int row, int col)
        {
            var grid = new double[Rows, Cols];
            for (int i = 0; i < N; i++) grid[i / Cols, i % Cols] = Cos(i, row * Cols + col);
            return grid;
        }
    }

    /// <summary>Writes OUT/dataset/model/variant with the given anchors (names of the study's five) and returns it.</summary>
    public static Run Write(string outDir, string model, string variant, int rows, int stride, int seed,
        string dataset = "berry", string[]? anchors = null, string weights = "deterministic", bool complete = true, int dim = 6)
    {
        anchors ??= ["tl", "c"];
        int cols = rows, n = rows * cols;
        string dir = Path.Combine(outDir, dataset, model, variant);
        Directory.CreateDirectory(dir);
        var random = new Random(seed);
        // A shared direction plus noise, so cosines are mostly positive as for real features.
        var features = new float[n * dim];
        for (int i = 0; i < features.Length; i++) features[i] = (float)(0.5 + random.NextDouble() * 2 - 1);
        Npy.Write(Path.Combine(dir, "features-pool.npy"), features, n, dim);

        var run = new Run(dir, rows, cols, stride, dim, features, new double[rows, cols], new long[n]);
        int last = rows - 1;
        var positions = new Dictionary<string, (int Row, int Col)>
        {
            ["tl"] = (0, 0), ["tr"] = (0, last), ["c"] = (rows / 2, rows / 2), ["bl"] = (last, 0), ["br"] = (last, last),
        };
        var offsets = Enumerable.Range(0, rows).Select(i => i * stride).ToArray();
        foreach (var anchor in anchors)
            WriteGrid(Path.Combine(dir, $"cos-pool-{anchor}.csv"), run.AnchorGrid(positions[anchor].Row, positions[anchor].Col), offsets);

        long[] classes = [TargetClass, 948, 950];
        for (int i = 0; i < n; i++)
        {
            run.Probability[i / cols, i % cols] = random.NextDouble();
            run.Top1[i] = classes[random.Next(classes.Length)];
        }
        WriteGrid(Path.Combine(dir, "class.csv"), run.Probability, offsets);
        Npy.Write(Path.Combine(dir, "top1.npy"), run.Top1, n);

        var json = new JsonObject
        {
            ["model"] = model, ["variant"] = variant,
            ["weights"] = new JsonObject { ["path"] = weights },
            ["dataset"] = new JsonObject { ["name"] = dataset, ["target_class"] = TargetClass, ["config"] = new JsonObject { ["resize_method"] = "opencv" } },
            ["stride"] = stride,
            ["grid"] = new JsonObject { ["rows"] = rows, ["cols"] = cols, ["stride"] = stride },
            ["layers"] = new JsonArray("pool", "class"),
            ["anchors"] = new JsonObject(anchors.Select(a => KeyValuePair.Create(a,
                (JsonNode?)new JsonArray(positions[a].Row * stride, positions[a].Col * stride)))),
            ["complete"] = complete,
        };
        File.WriteAllText(Path.Combine(dir, "run.json"), json.ToJsonString());
        return run;
    }

    /// <summary>`y,x,val` as docs/output.md documents it, written here independently of GridCsv.</summary>
    static void WriteGrid(string path, double[,] grid, int[] offsets)
    {
        var text = new StringBuilder("y,x,val\n");
        for (int r = 0; r < grid.GetLength(0); r++)
            for (int c = 0; c < grid.GetLength(1); c++)
                text.Append(CultureInfo.InvariantCulture, $"{offsets[r]},{offsets[c]},{grid[r, c]:R}\n");
        File.WriteAllText(path, text.ToString());
    }
}
