namespace ShiftBench.Runs;

/// <summary>
/// Whether a run keeps its feature matrices (`run --features`): none (the default: every grid and metric is
/// computed while the run streams), fp32, or fp16 (the fp32 values rounded to float16, half the size).
/// </summary>
public enum FeatureStorage { None, Fp32, Fp16 }

public static class FeatureStorages
{
    public const string OptionName = "--features";

    public static FeatureStorage Parse(string? text) => text?.ToLowerInvariant() switch
    {
        null or "" or "none" => FeatureStorage.None,
        "fp32" => FeatureStorage.Fp32,
        "fp16" => FeatureStorage.Fp16,
        _ => throw new ShiftBenchException($"{OptionName} '{text}' is unknown: use fp32 or fp16 (or leave it out to store no feature matrices)"),
    };

    public static string Name(this FeatureStorage storage) => storage.ToString().ToLowerInvariant();

    /// <summary>The .npy dtype the features are written in.</summary>
    public static string Descr(this FeatureStorage storage) =>
        storage == FeatureStorage.Fp16 ? Output.NpyRowFile.Float16 : Output.NpyRowFile.Float32;
}
