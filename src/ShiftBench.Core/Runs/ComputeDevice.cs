using static TorchSharp.torch;

namespace ShiftBench.Runs;

/// <summary>`--device auto|cpu|cuda`: auto takes CUDA when this build and machine have it.</summary>
public static class ComputeDevice
{
    public static Device Resolve(string choice) => choice.ToLowerInvariant() switch
    {
        "cpu" => CPU,
        "auto" => cuda.is_available() ? CUDA : CPU,
        "cuda" => cuda.is_available()
            ? CUDA
            : throw new ShiftBenchException("--device cuda: CUDA is not available (this build uses TorchSharp-cpu or no GPU is visible); build with -p:ShiftBenchCuda=true on a CUDA machine, or use --device cpu"),
        _ => throw new ShiftBenchException($"unknown device '{choice}' (--device): use auto, cpu or cuda"),
    };
}
