namespace ShiftBench.Report;
public static class Heatmap { public static void SavePng(string path, double[,] grid, int stride, double vmin, double vmax, string title) => File.WriteAllBytes(path, []); }
