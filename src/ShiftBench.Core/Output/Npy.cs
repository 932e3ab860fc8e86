namespace ShiftBench.Output;
// temporary stand-in, replaced by the metrics branch
public static class Npy {
  public static void Write(string path, long[] data, params long[] shape) { using var f = File.Create(path); f.Write(NpyRowFile.Header("<i8", shape)); f.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan())); }
}
