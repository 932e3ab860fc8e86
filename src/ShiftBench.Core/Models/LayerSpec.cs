using System.Text;
using static TorchSharp.torch;

namespace ShiftBench.Models;

/// <summary>How a feature map becomes one vector per image.</summary>
public enum LayerReduction
{
    /// <summary>Global average pool over the spatial map: [N, C, H, W] -> [N, C].</summary>
    Gap,
    /// <summary>The whole map flattened: [N, ...] -> [N, prod(...)].</summary>
    Flat,
    /// <summary>A 4-D map kept whole: stored flattened as [N, C*H*W]; run.json records [C, H, W] to reshape it.</summary>
    Map,
}

/// <summary>
/// A layer as the user writes it: `NAME`, `NAME@gap`, `NAME@flat` or `NAME@map` (NAME a tensor name of an
/// ONNX graph or a module path of a zoo network). Without a suffix a 4-D map is pooled (gap) and anything
/// else flattened. <see cref="Text"/> names the layer in run.json and in file names (cos-layer3@gap-tl.csv).
/// </summary>
public sealed record LayerSpec(string Text, string Tensor, LayerReduction? Reduction)
{
    public const string GapSuffix = "@gap";
    public const string FlatSuffix = "@flat";
    public const string MapSuffix = "@map";

    public static LayerSpec Parse(string text)
    {
        text = text.Trim();
        int at = text.LastIndexOf('@');
        if (at < 0) return new LayerSpec(text, text, null);
        string suffix = text[at..];
        LayerReduction reduction = suffix switch
        {
            GapSuffix => LayerReduction.Gap,
            FlatSuffix => LayerReduction.Flat,
            MapSuffix => LayerReduction.Map,
            _ => throw new ShiftBenchException($"layer '{text}' (--layers): unknown reduction '{suffix}'; use NAME, NAME{GapSuffix}, NAME{FlatSuffix} or NAME{MapSuffix}"),
        };
        if (at == 0) throw new ShiftBenchException($"layer '{text}' (--layers) names no tensor before '{suffix}'");
        return new LayerSpec(text, text[..at], reduction);
    }

    /// <summary>The spec as a file-name part: characters other than letters, digits and ._@+- become '_'.</summary>
    public string FileName => FileSafe(Text);

    public static string FileSafe(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char c in text) sb.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '@' or '+' or '-' ? c : '_');
        return sb.ToString();
    }

    /// <summary>The reduction used for a tensor of this rank: the written one, else gap for 4-D maps and flat otherwise.</summary>
    public LayerReduction ReductionFor(int rank) => Reduction ?? (rank == 4 ? LayerReduction.Gap : LayerReduction.Flat);

    /// <summary>Checks that the reduction fits a tensor of this rank (null = not known yet); a user error otherwise.</summary>
    public void CheckRank(int? rank, string shapeText)
    {
        if (rank is null) return;
        if (rank < 2)
            throw new ShiftBenchException($"layer '{Text}': tensor '{Tensor}' has shape {shapeText}, not [batch, ...]; choose a tensor with a batch dimension");
        if (Reduction is LayerReduction.Gap or LayerReduction.Map && rank != 4)
            throw new ShiftBenchException($"layer '{Text}': {(Reduction == LayerReduction.Gap ? GapSuffix + " pools" : MapSuffix + " keeps")} a 4-D [N,C,H,W] map but '{Tensor}' has shape {shapeText}; use {Tensor}{FlatSuffix}");
    }

    /// <summary>gap, flat or map: the reduction's name in run.json and in the suffix.</summary>
    public static string NameOf(LayerReduction reduction) => reduction.ToString().ToLowerInvariant();

    /// <summary>[N, ...] -> float32 [N, dim] by this spec's reduction (the mean in float32 as torch.mean does it).</summary>
    public Tensor Reduce(Tensor value)
    {
        CheckRank((int)value.dim(), "[" + string.Join(",", value.shape) + "]");
        var f = value.to(ScalarType.Float32);
        return ReductionFor((int)value.dim()) == LayerReduction.Gap ? f.mean([2, 3]) : f.flatten(1);
    }
}
