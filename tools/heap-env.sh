# Sourced by ./shiftbench and ./test.sh: glibc's malloc keeps freed memory in the process (one arena, no mmap'd
# blocks, no trimming), set before the process starts so that it holds for every thread. Page faults from memory
# handed back and mapped again made runs up to 6x slower on the reference VM (src/ShiftBench.Core/NativeHeap.cs).
# Must equal NativeHeap.Tunables (a test checks).
shiftbench_tunables="glibc.malloc.arena_max=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=2147483647"
export GLIBC_TUNABLES="${GLIBC_TUNABLES:+$GLIBC_TUNABLES:}$shiftbench_tunables"
