namespace ShiftBench.Assets;
// temporary stand-in, replaced by the assets branch
public static class AssetPaths
{
    public static string WeightsDirectory(string? option) => option ?? Environment.GetEnvironmentVariable("SHIFTBENCH_WEIGHTS") ?? "weights";
    public static string DataDirectory(string? option) => option ?? Environment.GetEnvironmentVariable("SHIFTBENCH_DATA") ?? "data";
}
