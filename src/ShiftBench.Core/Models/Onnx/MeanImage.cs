using ShiftBench.Output;
using Onnx;
using static TorchSharp.torch;

namespace ShiftBench.Models.Onnx;

/// <summary>
/// ML.NET's image preprocessing as its graph states it (ResNetPreprocess.onnx): pixel values 0..255 in RGB, the
/// channels reordered (Split, then Concat in the network's order) and a per-pixel mean image [1,3,S,S] subtracted
/// (Sub with an initializer). The graph is read and checked to be exactly that, so a run feeds what ML.NET feeds.
/// The dataset hands over 8-bit values divided by 255 in float32 (mean 0, std 1); times 255 in float32 gives every
/// value 0..255 back exactly, so the result equals the graph's on the same 8-bit image, bit for bit.
/// </summary>
public sealed class MeanImage
{
    // float32 [1,3,S,S] in the network's channel order; lives as long as the model (outside any dispose scope).
    readonly Tensor image;

    public string Path { get; }
    public string Sha256 { get; }
    /// <summary>Whether the graph reorders RGB to BGR (else it keeps RGB).</summary>
    public bool Bgr { get; }
    public int Size { get; }

    MeanImage(string path, string sha256, Tensor image, bool bgr)
    {
        Path = System.IO.Path.GetFullPath(path);
        Sha256 = sha256;
        this.image = image;
        Bgr = bgr;
        Size = (int)image.shape[3];
    }

    /// <summary>Reads and checks the preprocessing graph: Split(axis 1) -> Concat(axis 1) -> Sub(mean image initializer).</summary>
    public static MeanImage Load(string path)
    {
        var graph = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph;
        string Unexpected(string what) => $"{path}: {what}; expected ML.NET's Split -> Concat -> Sub(mean image) preprocessing graph";
        if (graph.Node.Select(n => n.OpType).ToList() is not ["Split", "Concat", "Sub"])
            throw new ShiftBenchException(Unexpected($"nodes are {string.Join(", ", graph.Node.Select(n => n.OpType))}"));
        var (split, concat, sub) = (graph.Node[0], graph.Node[1], graph.Node[2]);
        if (AxisOf(split) != 1 || AxisOf(concat) != 1 || split.Output.Count != 3 || concat.Input.Count != 3)
            throw new ShiftBenchException(Unexpected("the split or concat is not of three channels along axis 1"));
        int[] order = [.. concat.Input.Select(i => split.Output.IndexOf(i))];
        bool bgr = order.SequenceEqual([2, 1, 0]);
        if (!bgr && !order.SequenceEqual([0, 1, 2]))
            throw new ShiftBenchException(Unexpected($"the channels are reordered as [{string.Join(",", order)}]"));
        var mean = graph.Initializer.SingleOrDefault(t => t.Name == sub.Input[1]);
        if (sub.Input[0] != concat.Output[0] || mean is null || mean.DataType != (int)TensorProto.Types.DataType.Float
            || mean.Dims.Count != 4 || mean.Dims[0] != 1 || mean.Dims[1] != 3 || mean.Dims[2] != mean.Dims[3])
            throw new ShiftBenchException(Unexpected("the subtrahend is not a float [1,3,S,S] initializer"));
        float[] values = mean.FloatData.Count > 0 ? [.. mean.FloatData] : RawFloats(mean.RawData.Span);
        return new MeanImage(path, FileHash.Sha256(path), tensor(values, [.. mean.Dims]).DetachFromDisposeScope(), bgr);
    }

    static long AxisOf(NodeProto node) => node.Attribute.FirstOrDefault(a => a.Name == "axis")?.I ?? 0;

    static float[] RawFloats(ReadOnlySpan<byte> bytes)
    {
        var values = new float[bytes.Length / sizeof(float)];
        for (int i = 0; i < values.Length; i++) values[i] = BitConverter.ToSingle(bytes.Slice(i * sizeof(float), sizeof(float)));
        return values; // ONNX raw data is little-endian, as every platform .NET runs ShiftBench on
    }

    /// <summary>Images in [0,1] (8-bit / 255), already in the network's channel order, [N,3,S,S] -> the network's input.</summary>
    public Tensor Subtract(Tensor images01) => images01.mul(255f).sub(image);
}
