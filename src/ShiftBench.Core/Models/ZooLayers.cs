using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Models;

/// <summary>A module of a built zoo network and the shapes (per image, batch left out) it receives and returns.</summary>
public sealed record ModuleShape(string Path, string Type, long[] Input, long[] Output)
{
    public static string ShapeText(long[] shape) => "[" + string.Join(",", shape) + "]";
}

/// <summary>One layer of a depth profile: the stage's name and the layer that holds it in a run.</summary>
public sealed record StageLayer(string Stage, string Layer);

/// <summary>
/// The layers a zoo network can write: its named layers (<see cref="ModelEntry.Layers"/>: pool, fc6, ..., fc,
/// class) and any module path of the TorchSharp module tree (torchvision's state-dict paths: `layer3`,
/// `features.16`, `layer4.2.conv3`), written as a <see cref="LayerSpec"/> (`PATH`, `PATH@gap`, `PATH@flat`,
/// `PATH@map`). A path that is not a module but is one after `features.` means that module (DenseNet's
/// `denseblock2` = `features.denseblock2`). `stages` stands for the depth profile's layers (<see cref="StageLayers"/>).
/// Module shapes come from one forward pass of the built network (no weights needed), cached per structure and size.
/// </summary>
public static class ZooLayers
{
    public const string StagesKeyword = "stages";
    const string ShortPrefix = "features.";

    /// <summary>
    /// The stages of a depth profile in forward order: each of the entry's Stages as `MODULE@gap` (all are
    /// 4-D maps), then its named taps (pool, fc6, ...) and the logits `fc`. Module paths differ between forms
    /// (AlexNet's conv1 is features.1 or features.2), so a profile matches variants by stage name.
    /// </summary>
    public static IReadOnlyList<StageLayer> StageLayers(ModelEntry entry) =>
    [
        .. entry.Stages.Select(s => new StageLayer(s.Name, s.Module + LayerSpec.GapSuffix)),
        .. entry.Taps.Select(t => new StageLayer(t.Name, t.Name)),
        new(ModelEntry.LogitsLayer, ModelEntry.LogitsLayer),
    ];

    /// <summary>`stages@map`: the entry's Stages with their maps kept whole (`MODULE@map`), for feature-map equivariance.</summary>
    public const string MapStagesKeyword = StagesKeyword + LayerSpec.MapSuffix;

    public static IReadOnlyList<StageLayer> MapStageLayers(ModelEntry entry) =>
        [.. entry.Stages.Select(s => new StageLayer(s.Name, s.Module + LayerSpec.MapSuffix))];

    /// <summary>
    /// The layer names to write for --layers (comma-separated parts; empty = the named layers): module-path
    /// layers as written (file-safe) in the order given, then the named layers in study order (as before
    /// module paths existed, so named-only runs keep their fingerprints). Does not build the network:
    /// <see cref="Check"/> verifies module paths and reductions.
    /// </summary>
    public static IReadOnlyList<string> Resolve(ModelEntry entry, IReadOnlyList<string> requested)
    {
        var written = requested.SelectMany(l => l.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        if (written.Count == 0) return entry.Layers;
        var named = new HashSet<string>();
        var modules = new List<string>();
        foreach (var text in written.SelectMany(t => t.Equals(StagesKeyword, StringComparison.OrdinalIgnoreCase) ? StageLayers(entry).Select(s => s.Layer)
            : t.Equals(MapStagesKeyword, StringComparison.OrdinalIgnoreCase) ? MapStageLayers(entry).Select(s => s.Layer) : [t]))
        {
            if (entry.Layers.Contains(text.ToLowerInvariant())) { named.Add(text.ToLowerInvariant()); continue; }
            var spec = LayerSpec.Parse(text);
            if (entry.Layers.Contains(spec.Tensor.ToLowerInvariant()))
                throw new ShiftBenchException($"layer '{text}' (--layers): '{spec.Tensor}' is a named layer of {entry.Model}, already one vector per image; write it without '@'");
            string name = LayerSpec.FileSafe(text);
            if (!modules.Contains(name)) modules.Add(name);
        }
        return [.. modules, .. entry.Layers.Where(named.Contains)];
    }

    /// <summary>Whether a resolved layer name is a module-path layer (not a named one).</summary>
    public static bool IsModuleLayer(ModelEntry entry, string layer) => !entry.Layers.Contains(layer);

    /// <summary>
    /// Checks every module-path layer against the built network at this input size: the module exists (else
    /// one line with the nearest names) and its output fits the reduction. Builds the network only when some
    /// layer is a module path.
    /// </summary>
    public static void Check(ModelEntry entry, IReadOnlyList<string> layers, int inputSize)
    {
        var moduleLayers = layers.Where(l => IsModuleLayer(entry, l)).ToList();
        foreach (var layer in moduleLayers) PathOf(entry, layer); // every name before any forward pass
        foreach (var layer in moduleLayers) Find(entry, layer, inputSize);
    }

    /// <summary>The spec of a module-path layer with its Tensor set to the module path, and that module's shapes.</summary>
    public static (LayerSpec Spec, ModuleShape Module) Find(ModelEntry entry, string layer, int inputSize)
    {
        var spec = LayerSpec.Parse(layer);
        string path = PathOf(entry, layer);
        var module = Shapes(entry, inputSize).FirstOrDefault(m => m.Path == path)
            ?? throw new ShiftBenchException($"layer '{layer}': module '{path}' of {entry.Model} is not called in a forward pass; choose another (`shiftbench models --layers {entry.Model}`)");
        spec = spec with { Tensor = path };
        spec.CheckRank(module.Output.Length + 1, "[N," + string.Join(",", module.Output) + "]");
        return (spec, module);
    }

    /// <summary>The module path a module-path layer names (checked on the module tree, without a forward pass).</summary>
    static string PathOf(ModelEntry entry, string layer)
    {
        string written = LayerSpec.Parse(layer).Tensor;
        var paths = ModulePaths(entry);
        return paths.Contains(written) ? written : paths.Contains(ShortPrefix + written) ? ShortPrefix + written
            : throw new ShiftBenchException(
                $"unknown layer '{layer}' for {entry.Model} (--layers): not a named layer ({string.Join(", ", entry.Layers)}) nor a module path; nearest: "
                + $"{string.Join(", ", NearestNames.Of(paths.Concat(entry.Layers), written))} (`shiftbench models --layers {entry.Model}` lists all)");
    }

    /// <summary>The forward hooks a run needs: the named taps among the layers, and one output tap per module-path layer.</summary>
    public static IReadOnlyList<LayerTap> Taps(ModelEntry entry, IReadOnlyList<string> layers, int inputSize) =>
    [
        .. entry.Taps.Where(t => layers.Contains(t.Name)),
        .. layers.Where(l => IsModuleLayer(entry, l)).Select(l => Find(entry, l, inputSize).Spec)
            .Select(spec => new LayerTap(spec.Text, spec.Tensor, TapPoint.Output, spec)),
    ];

    /// <summary>run.json "modules": for each module-path layer its module, reduction and output shape per image ([C, H, W] for a map).</summary>
    public static IReadOnlyDictionary<string, Output.RunModule>? Describe(ModelEntry entry, IReadOnlyList<string> layers, int inputSize)
    {
        var moduleLayers = layers.Where(l => IsModuleLayer(entry, l)).ToList();
        if (moduleLayers.Count == 0) return null;
        return moduleLayers.ToDictionary(l => l, l =>
        {
            var (spec, module) = Find(entry, l, inputSize);
            return new Output.RunModule(module.Path, LayerSpec.NameOf(spec.ReductionFor(module.Output.Length + 1)), module.Output);
        });
    }

    sealed record NetworkShapes(IReadOnlyList<ModuleShape> Modules, long[] Logits);

    static readonly ConcurrentDictionary<(string Model, int FilterSize, int Size), Lazy<NetworkShapes>> cache = new();
    static readonly ConcurrentDictionary<(string Model, int FilterSize), Lazy<HashSet<string>>> pathCache = new();

    /// <summary>Every module path of the network's tree (built, never run).</summary>
    public static IReadOnlySet<string> ModulePaths(ModelEntry entry) =>
        pathCache.GetOrAdd((entry.Model, entry.FilterSize), _ => new Lazy<HashSet<string>>(() =>
        {
            using var model = entry.Build();
            return [.. model.named_modules().Select(m => m.name).Where(n => n.Length > 0)];
        })).Value;

    /// <summary>
    /// Every module of the network in tree order (depth first, as PyTorch's named_modules) with its input and
    /// output shape for one image of the given size: one forward pass of the built network (initial weights:
    /// shapes do not depend on them) with a hook on every module. A module called more than once (a shared
    /// ReLU) reports its last call, as a PyTorch hook would; one never called is left out.
    /// </summary>
    public static IReadOnlyList<ModuleShape> Shapes(ModelEntry entry, int inputSize) => ShapesOf(entry, inputSize).Modules;

    /// <summary>The logits' shape per image ([1000] for the ImageNet zoo).</summary>
    public static long[] LogitsShape(ModelEntry entry, int inputSize) => ShapesOf(entry, inputSize).Logits;

    static NetworkShapes ShapesOf(ModelEntry entry, int inputSize) =>
        cache.GetOrAdd((entry.Model, entry.FilterSize, inputSize), _ => new Lazy<NetworkShapes>(() => Probe(entry, inputSize))).Value;

    static IEnumerable<(string Path, nn.Module Module)> DepthFirst(nn.Module module, string prefix)
    {
        foreach (var (name, child) in module.named_children())
        {
            string path = prefix.Length == 0 ? name : prefix + "." + name;
            yield return (path, child);
            foreach (var below in DepthFirst(child, path)) yield return below;
        }
    }

    static NetworkShapes Probe(ModelEntry entry, int inputSize)
    {
        using var scope = NewDisposeScope();
        using var model = entry.Build();
        var seen = new Dictionary<string, ModuleShape>();
        var removers = new List<Action>();
        var order = new List<string>();
        long[] logits;
        foreach (var (path, module) in DepthFirst(model, ""))
        {
            if (module is not nn.Module<Tensor, Tensor> m) continue;
            order.Add(path);
            string type = module.GetType().Name;
            removers.Add(m.register_forward_hook((_, input, output) =>
            {
                seen[path] = new ModuleShape(path, type, input.shape[1..], output.shape[1..]);
                return output;
            }).remove);
        }
        try
        {
            using (inference_mode())
                logits = model.call(zeros(1, 3, inputSize, inputSize)).shape[1..];
        }
        catch (Exception e) when (e is System.Runtime.InteropServices.ExternalException or ArgumentException)
        {
            throw new ShiftBenchException($"{entry.Model} cannot take {inputSize}x{inputSize} images ({e.Message.Split('\n')[0]}); use a dataset with a larger canvas.size");
        }
        finally
        {
            foreach (var remove in removers) remove();
        }
        return new NetworkShapes([.. order.Where(seen.ContainsKey).Select(p => seen[p])], logits);
    }
}

/// <summary>What `shiftbench models --layers M` shows: the named layers, the stages and every module path with its output shape.</summary>
public sealed record LayerListing(ModelEntry Entry, int InputSize, IReadOnlyList<LayerListing.Named> NamedLayers, IReadOnlyList<StageLayer> Stages, IReadOnlyList<ModuleShape> Modules)
{
    /// <summary>A named layer: where it is read (module and point, or the model output) and its shape per image.</summary>
    public sealed record Named(string Name, string Source, long[] Shape);

    /// <summary>One forward pass of the built network at <paramref name="inputSize"/> (weights not needed).</summary>
    public static LayerListing Of(ModelEntry entry, int inputSize = ModelRegistry.InputSize)
    {
        var modules = ZooLayers.Shapes(entry, inputSize);
        long[] Shape(LayerTap t) => modules.First(m => m.Path == t.Module) is var m && t.Point == TapPoint.Input ? m.Input : m.Output;
        return new LayerListing(entry, inputSize,
        [
            .. entry.Taps.Select(t => new Named(t.Name, $"{(t.Point == TapPoint.Input ? "input" : "output")} of {t.Module}", Shape(t))),
            new(ModelEntry.LogitsLayer, "logits (the model output)", ZooLayers.LogitsShape(entry, inputSize)),
            new(ModelEntry.ClassLayer, "softmax of the logits at the target class", [1]),
        ], ZooLayers.StageLayers(entry), modules);
    }

    public JsonObject ToJson() => new()
    {
        ["model"] = Entry.Model,
        ["variant"] = Entry.VariantName,
        ["input_size"] = InputSize,
        ["named"] = new JsonArray([.. NamedLayers.Select(n => (JsonNode)new JsonObject { ["name"] = n.Name, ["source"] = n.Source, ["shape"] = Array(n.Shape) })]),
        ["stages"] = new JsonArray([.. Stages.Select(s => (JsonNode)new JsonObject { ["stage"] = s.Stage, ["layer"] = s.Layer })]),
        ["modules"] = new JsonArray([.. Modules.Select(m => (JsonNode)new JsonObject { ["path"] = m.Path, ["type"] = m.Type, ["shape"] = Array(m.Output) })]),
    };

    static JsonArray Array(long[] shape) => new([.. shape.Select(d => JsonValue.Create(d))]);
}
