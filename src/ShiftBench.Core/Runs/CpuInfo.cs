using ShiftBench.Models;

namespace ShiftBench.Runs;

/// <summary>
/// The CPU a measurement ran on, from /proc/cpuinfo: its model name, logical cores, and the instruction-set flags
/// that give fast reduced-precision kernels. The flags do not settle whether bf16 pays: with avx512_bf16 and no AMX,
/// bf16 ran about 2x fp32 on an AMD EPYC here and 0.78x on an Intel Xeon (issue 24), so bench measures it rather
/// than assumes it.
/// </summary>
public sealed record CpuInfo(string Model, int Cores, IReadOnlyList<string> Flags)
{
    public const string CpuInfoPath = "/proc/cpuinfo";

    /// <summary>The flags that matter for a precision's speed on a CPU (none for fp32).</summary>
    public static IReadOnlyList<string> FastFlags(Precision precision) => precision switch
    {
        Precision.Bf16 => ["avx512_bf16", "amx_bf16"],
        Precision.Fp16 => ["avx512_fp16", "amx_fp16"],
        _ => [],
    };

    /// <summary>This machine's CPU; the model is "unknown CPU" where /proc/cpuinfo is missing (not Linux).</summary>
    public static CpuInfo Current() =>
        Parse(File.Exists(CpuInfoPath) ? File.ReadAllText(CpuInfoPath) : "", Environment.ProcessorCount);

    /// <summary>The first processor's `model name` and `flags` (x86) of a /proc/cpuinfo text.</summary>
    public static CpuInfo Parse(string cpuinfo, int cores)
    {
        string? Field(string name) => cpuinfo.Split('\n')
            .Select(line => line.Split(':', 2))
            .Where(kv => kv.Length == 2 && kv[0].Trim() == name)
            .Select(kv => kv[1].Trim()).FirstOrDefault();
        var flags = (Field("flags") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        var known = new[] { Precision.Bf16, Precision.Fp16 }.SelectMany(FastFlags).Where(flags.Contains).ToList();
        return new CpuInfo(Field("model name") is { Length: > 0 } model ? model : "unknown CPU", cores, known);
    }

    /// <summary>
    /// One line on whether a reduced precision pays on this CPU: its forward speed over fp32's as measured, and
    /// which of its fast-kernel flags the CPU reports.
    /// </summary>
    public string Verdict(Precision precision, double forwardOverFp32, double endToEndOverFp32)
    {
        var wanted = FastFlags(precision);
        var has = wanted.Where(Flags.Contains).ToList();
        var lacks = wanted.Except(has).ToList();
        string flags = (has.Count > 0 ? "reports " + string.Join(", ", has) : "") + (has.Count > 0 && lacks.Count > 0 ? "; " : "")
            + (lacks.Count > 0 ? "no " + string.Join(", ", lacks) : "");
        // Below 1.1x the saving is within run-to-run noise on a shared machine, and reduced precision costs accuracy.
        string advice = forwardOverFp32 >= 1.1 ? $"{precision.Name()} pays here" : $"{precision.Name()} does not pay here: use fp32";
        return $"{precision.Name()} is {forwardOverFp32:F2}x fp32 forward ({endToEndOverFp32:F2}x end to end) on this CPU ({Model}, {Cores} cores; {flags}): {advice}. " +
            $"{precision.Name()} pays only on CPUs with fast {precision.Name()} kernels, which the flags alone do not tell: measure on each machine.";
    }
}
