using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Models;

/// <summary>
/// `--precision fp32|bf16|fp16`: the number format a zoo network computes in. The network's parameters and
/// buffers (BlurPool filters, batch-norm statistics) and each input batch are converted to it; every layer
/// output is converted back to float32 before it is stored, so cosines, softmax and metrics are computed in
/// float32/float64 as for fp32 runs. Results differ from fp32 (bf16 keeps 8 significant bits), so the
/// precision is part of a run's fingerprint and an output folder holds runs of one precision only.
/// </summary>
public enum Precision { Fp32, Bf16, Fp16 }

public static class Precisions
{
    public const string OptionName = "--precision";

    public static string Name(this Precision p) => p switch
    {
        Precision.Fp32 => "fp32",
        Precision.Bf16 => "bf16",
        Precision.Fp16 => "fp16",
        _ => throw new ArgumentOutOfRangeException(nameof(p)),
    };

    public static ScalarType ScalarType(this Precision p) => p switch
    {
        Precision.Fp32 => TorchSharp.torch.ScalarType.Float32,
        Precision.Bf16 => TorchSharp.torch.ScalarType.BFloat16,
        Precision.Fp16 => TorchSharp.torch.ScalarType.Float16,
        _ => throw new ArgumentOutOfRangeException(nameof(p)),
    };

    public static readonly IReadOnlyList<Precision> All = Enum.GetValues<Precision>();

    public static Precision Parse(string text, string option = OptionName)
    {
        string name = text.Trim().ToLowerInvariant();
        foreach (var p in All)
            if (p.Name() == name) return p;
        throw new ShiftBenchException($"unknown precision '{text}' ({option}): use fp32, bf16 or fp16");
    }

    /// <summary>A comma-separated list (bench's `--precision fp32,bf16`), duplicates dropped, in the order given.</summary>
    public static IReadOnlyList<Precision> ParseList(string text, string option = OptionName)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new ShiftBenchException($"{option} is empty: use fp32, bf16 or fp16, or a list such as fp32,bf16");
        return parts.Select(p => Parse(p, option)).Distinct().ToList();
    }

    /// <summary>
    /// Refuses what cannot run well: fp16 on the CPU (libtorch 2.10's CPU half-precision convolutions fall back to slow
    /// reference kernels on CPUs without AVX512-FP16: measured many times slower than fp32 here), and any reduced precision for an ONNX network
    /// (ONNX Runtime would need a converted float16 graph, which is a change of the network, not a setting).
    /// </summary>
    public static void CheckSupported(Precision precision, Device device, bool onnx)
    {
        if (precision == Precision.Fp32) return;
        if (onnx)
            throw new ShiftBenchException($"{OptionName} {precision.Name()} is not available for ONNX models (ONNX Runtime runs the graph's own float32 types): use {OptionName} fp32");
        if (precision == Precision.Fp16 && device.type == DeviceType.CPU)
            throw new ShiftBenchException($"{OptionName} fp16 needs --device cuda (half precision on the CPU is far slower than fp32): use {OptionName} bf16 on the CPU");
    }
}
