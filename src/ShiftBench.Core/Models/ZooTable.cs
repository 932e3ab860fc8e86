using System.Text.Json;
using System.Text.Json.Nodes;

namespace ShiftBench.Models;

/// <summary>
/// The registry as JSON (`shiftbench models --json`): architectures, families, taps and stages of both
/// forms, and every published file. tools/fixtures reads the committed copy
/// (tests/ShiftBench.Tests/Fixtures/zoo.json), and a test keeps that copy equal to this.
/// </summary>
public static class ZooTable
{
    public static string Json()
    {
        var architectures = new JsonArray();
        foreach (var a in ModelRegistry.Architectures)
        {
            var weights = new JsonArray();
            foreach (var w in a.Weights)
                weights.Add(new JsonObject
                {
                    ["variant"] = w.VariantName, ["filter_size"] = w.FilterSize, ["file"] = w.FileName, ["url"] = w.Url,
                    ["sha256_prefix"] = w.Sha256Prefix, ["licence"] = w.Licence, ["wrapped_state_dict"] = w.WrappedStateDict,
                });
            architectures.Add(new JsonObject
            {
                ["name"] = a.Name,
                ["family"] = a.Spec.Family,
                ["default_batch_size"] = a.DefaultBatchSize,
                ["study_antialiased"] = a.StudyAntialiased?.VariantName,
                ["taps"] = new JsonObject { ["torchvision"] = Taps(a.Spec.Taps(false)), ["antialiased"] = Taps(a.Spec.Taps(true)) },
                ["stages"] = new JsonObject { ["torchvision"] = Taps(a.Spec.Stages(false)), ["antialiased"] = Taps(a.Spec.Stages(true)) },
                ["weights"] = weights,
            });
        }
        var root = new JsonObject { ["input_size"] = ModelRegistry.InputSize, ["architectures"] = architectures };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    static JsonArray Taps(IEnumerable<LayerTap> taps) =>
        [.. taps.Select(t => (JsonNode)new JsonArray(t.Name, t.Module, t.Point == TapPoint.Input ? "input" : "output"))];
}
