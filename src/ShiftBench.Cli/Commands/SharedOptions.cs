using System.CommandLine;
using ShiftBench.Models;
using ShiftBench.Models.Onnx;
using ShiftBench.Runs;

namespace ShiftBench.Cli.Commands;

/// <summary>
/// The options several commands take, each defined once (name, description, default) and added to every command
/// that takes it, so `--device` or `--data-dir` means and reads the same everywhere. Options of one command live
/// with it (RunCommand keeps --layers, --anchors, --vmin, --shard, --merge, --features).
/// </summary>
public static class SharedOptions
{
    public static readonly Option<string> Model = new("--model") { Description = "Network: " + string.Join(", ", ModelRegistry.ModelNames) + " (`shiftbench models`), " + string.Join(", ", PackagedNetworks.Names) + " (no download), or PATH.onnx", Required = true };
    public static readonly Option<string> Dataset = new("--dataset") { Description = "Dataset name (configs/NAME.yaml) or path to a YAML config", Required = true };
    public static readonly Option<string> Variant = new("--variant") { Description = "Weights: torchvision, antialiased, antialiased-lpf2..5, antialiased-lpf4-finetune, comma-separated; both (torchvision,antialiased) or all", DefaultValueFactory = _ => "both" };
    public static readonly Option<int?> Stride = new("--stride") { Description = "Step between positions in pixels (default: the dataset's, 1)" };
    public static readonly Option<int?> BatchSize = new("--batch-size") { Description = "Images per forward pass (default: the model's measured best)" };
    public static readonly Option<string?> Weights = new("--weights") { Description = "Weights file for a single --variant ('deterministic' = synthetic weights for tests and demos)" };
    public static readonly Option<string?> WeightsDir = new("--weights-dir") { Description = "Folder of published weight files (default $SHIFTBENCH_WEIGHTS, else weights/)" };
    public static readonly Option<string?> DataDir = new("--data-dir") { Description = "Folder of source images (default $SHIFTBENCH_DATA, else data/)" };
    public static readonly Option<string> Out = new("--out") { Description = "Output root", DefaultValueFactory = _ => "out" };
    public static readonly Option<string> DeviceOption = new("--device") { Description = "auto, cpu or cuda", DefaultValueFactory = _ => "cpu" };
    public static readonly Option<string> PrecisionOption = new(Precisions.OptionName) { Description = "Number format of the network: fp32, bf16 (CPU or CUDA) or fp16 (CUDA only); runs of another precision need their own --out", DefaultValueFactory = _ => "fp32" };
    public static readonly Option<bool> Resume = new("--resume") { Description = "Continue an interrupted run (finished runs are skipped)" };
    public static readonly Option<bool> Offline = new("--offline") { Description = "Never download; missing files are an error (also SHIFTBENCH_OFFLINE=1)" };
    // ONNX models only; each overrides PATH.onnx.yaml.
    public static readonly Option<string?> Name = new("--name") { Description = "ONNX: run folder name (OUT/DATASET/NAME/onnx; default the file stem)" };
    public static readonly Option<string?> Logits = new("--logits") { Description = "ONNX: tensor holding the logits (default: the first graph output)" };
    public static readonly Option<int?> InputSize = new("--input-size") { Description = "ONNX: input height = width in pixels (default 224)" };
    public static readonly Option<string?> Mean = new("--mean") { Description = "ONNX: per-channel mean R,G,B of inputs in [0,1] (default ImageNet's)" };
    public static readonly Option<string?> Std = new("--std") { Description = "ONNX: per-channel std R,G,B (default ImageNet's)" };
    public static readonly Option<string?> Channels = new("--channels") { Description = "ONNX: channel order the network expects, rgb or bgr (default rgb)" };
    /// <summary>The ONNX options, for every command that takes --model PATH.onnx.</summary>
    public static readonly Option[] OnnxOptionSet = [Name, Logits, InputSize, Mean, Std, Channels];
    public static readonly Option<string> Reuse = new("--reuse") { Description = "auto: reuse computation shared by neighbouring positions, exactly, where it was measured to pay (crop and patch datasets; every zoo family but DenseNet); on: wherever it applies; off: brute force", DefaultValueFactory = _ => Runs.Reuse.ReuseEngine.Auto };

    /// <summary>The ONNX options as given (unset ones null); the command must have added <see cref="OnnxOptionSet"/>.</summary>
    public static OnnxOptions ReadOnnxOptions(ParseResult parse) => new()
    {
        Name = parse.GetValue(Name), Logits = parse.GetValue(Logits), Size = parse.GetValue(InputSize),
        Mean = Numbers(parse.GetValue(Mean), "--mean"), Std = Numbers(parse.GetValue(Std), "--std"), Channels = parse.GetValue(Channels),
    };

    /// <summary>The ONNX model --model names with the input options, or null for a zoo name.</summary>
    public static OnnxModel? LoadOnnx(ParseResult parse, string model) => RunRequestBuilder.LoadOnnx(model, ReadOnnxOptions(parse));

    static double[]? Numbers(string? text, string option)
    {
        if (text is null) return null;
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!double.TryParse(parts[i], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out values[i]))
                throw new ShiftBenchException($"{option} '{text}': give three numbers separated by commas, e.g. 0.485,0.456,0.406");
        return values;
    }
}
