using System.Runtime.InteropServices;

namespace ShiftBench;

/// <summary>
/// Keeps freed tensor memory in the process. glibc's malloc gives each thread that allocates an arena of mmap'd 64 MiB
/// heaps and returns freed heaps and large blocks to the kernel, so every batch's activations are mapped afresh and
/// first-touched page by page. On the reference VM page faults are expensive: brute-force MobileNetV2 on berry took
/// 4.9 million minor faults and ran at 16 images/s, and 83 thousand faults and 97 images/s with one arena, no mmap'd
/// blocks and no trimming (docs/performance.md: the machine's slow mode). The heap then stays at the run's peak, which
/// it reaches in the first batch anyway. Set in the process (<see cref="KeepFreedMemory"/>) they cannot move threads
/// that already have an arena (44-70 images/s there), so the `shiftbench` script, test.sh and Slurm jobs also set
/// <see cref="Tunables"/> in GLIBC_TUNABLES before the process starts.
/// </summary>
public static class NativeHeap
{
    /// <summary>The same settings for GLIBC_TUNABLES (tools/heap-env.sh holds a copy for the shell scripts).</summary>
    public const string Tunables = "glibc.malloc.arena_max=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=2147483647";

    /// <summary>A shell line that adds <see cref="Tunables"/> to GLIBC_TUNABLES, keeping what is there.</summary>
    public const string ExportLine = "export GLIBC_TUNABLES=\"${GLIBC_TUNABLES:+$GLIBC_TUNABLES:}" + Tunables + "\"";

    const int TrimThreshold = -1, MmapMax = -4, ArenaMax = -8; // malloc.h: M_TRIM_THRESHOLD, M_MMAP_MAX, M_ARENA_MAX

    [DllImport("libc.so.6", EntryPoint = "mallopt")]
    static extern int Mallopt(int parameter, int value);

    /// <summary>Sets glibc's malloc to keep what it frees; false where the C library is not glibc (nothing changes).</summary>
    public static bool KeepFreedMemory()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            // mallopt returns 1 on success; each setting stands alone.
            return (Mallopt(ArenaMax, 1) & Mallopt(MmapMax, 0) & Mallopt(TrimThreshold, int.MaxValue)) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }
}
