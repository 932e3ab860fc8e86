using Mono.Cecil;
using Mono.Cecil.Cil;

namespace ShiftBench.Tests;

/// <summary>
/// The namespaces depend one way (docs/development.md, "Layers"): read from the built ShiftBench.Core and shiftbench
/// assemblies, every namespace uses only namespaces of lower layers in <see cref="Layers"/>, so there is no cycle.
/// </summary>
[Category(TestTier.Fast)]
public class NamespaceLayerTests
{
    /// <summary>
    /// The layers, lowest first: a namespace may use the namespaces of any lower layer, none of its own or a higher one.
    /// A sub-namespace (Models.Families, Models.Onnx, Runs.Reuse, Cli.Commands) is part of its parent's layer.
    /// </summary>
    static readonly string[][] Layers =
    [
        ["ShiftBench"],                                                  // exceptions, hashes, progress
        ["ShiftBench.Output"],                                           // files: reading input, hashes, run folder files
        ["ShiftBench.Weights", "ShiftBench.Models"],                     // weight files, networks
        ["ShiftBench.Assets"],                                           // published weights and images, fetched
        ["ShiftBench.Datasets"],                                         // shifted images (configs name assets and layers)
        ["ShiftBench.Analysis"],                                         // anchors, cosine grids, metrics
        ["ShiftBench.Runs"],                                             // the engine: one run, shards, the job protocol
        ["ShiftBench.Report", "ShiftBench.Site"],                        // pictures, figures, report page; the study site's grids
        ["ShiftBench.Workflows"],                                        // sweep, Slurm, reproduce, consistency, bench
        ["ShiftBench.Cli"],                                              // the command line
    ];

    [Test]
    public void NamespacesFormNoCycleAndDependDownward()
    {
        var graph = NamespaceGraph.Read([typeof(ShiftBenchException).Assembly.Location, typeof(Cli.Commands.RunCommand).Assembly.Location],
            cliAssembly: typeof(Cli.Commands.RunCommand).Assembly.GetName().Name!, layerOf: LayerKey);
        Assert.That(graph.Edges, Is.Not.Empty, "no dependencies read: the checker reads nothing");
        Assert.That(graph.Edges.Keys.Select(e => e.From), Does.Contain("ShiftBench.Cli").And.Contain("ShiftBench.Runs"), "the graph misses namespaces it must hold");
        Assert.Multiple(() =>
        {
            Assert.That(NamespaceGraph.FindCycle(graph.Edges.Keys), Is.Null, "namespace cycle");
            Assert.That(NamespaceGraph.UpwardEdges(graph.Edges, Rank), Is.Empty, "dependencies on the same or a higher layer (see Layers)");
        });
    }

    [Test]
    public void TheCheckerFindsACycleAndAnUpwardEdge()
    {
        (string, string)[] edges = [("A", "B"), ("B", "C"), ("C", "A"), ("C", "D")];
        Assert.That(NamespaceGraph.FindCycle(edges), Is.EqualTo("A -> B -> C -> A"));
        Assert.That(NamespaceGraph.FindCycle([("A", "B"), ("B", "C"), ("A", "C")]), Is.Null);
        var ranks = new Dictionary<string, int> { ["A"] = 2, ["B"] = 1, ["C"] = 0, ["D"] = 0 };
        var upward = NamespaceGraph.UpwardEdges(edges.ToDictionary(e => e, e => $"{e.Item1}.X uses {e.Item2}.Y"), n => ranks[n]);
        Assert.That(upward, Is.EqualTo(new[] { "C -> A (layer 0 -> 2): C.X uses A.Y", "C -> D (layer 0 -> 0): C.X uses D.Y" }));
    }

    [Test]
    public void TheReaderSeesReferencesInLambdasGenericArgumentsAndTypeTests()
    {
        var graph = NamespaceGraph.Read([typeof(NamespaceLayerTests).Assembly.Location], cliAssembly: "", layerOf: ns => ns);
        Assert.That(graph.Edges.Keys.Where(e => e.From == "ShiftBench.Tests.LayerProbe").Select(e => e.To),
            Is.EquivalentTo(new[] { "ShiftBench.Output", "ShiftBench.Models", "ShiftBench.Datasets" }), "LayerProbe.cs's hidden references");
    }

    /// <summary>The entry of <see cref="Layers"/> a namespace belongs to (itself, or its closest listed parent).</summary>
    static string LayerKey(string ns)
    {
        for (string? n = ns; n is not null; n = n.Contains('.') ? n[..n.LastIndexOf('.')] : null)
            if (Layers.Any(l => l.Contains(n))) return n;
        throw new AssertionException($"namespace {ns} has no layer: add it to NamespaceLayerTests.Layers (and docs/development.md, \"Layers\")");
    }

    static int Rank(string key) => Array.FindIndex(Layers, l => l.Contains(key));
}

/// <summary>Namespace dependencies of assemblies, as the compiler wrote them, and the checks on them.</summary>
static class NamespaceGraph
{
    /// <summary>Edges between layer keys, each with one example of the type reference that makes it.</summary>
    public sealed record Graph(Dictionary<(string From, string To), string> Edges);

    public static Graph Read(IEnumerable<string> assemblies, string cliAssembly, Func<string, string> layerOf)
    {
        var edges = new Dictionary<(string, string), string>();
        foreach (var path in assemblies)
        {
            using var assembly = AssemblyDefinition.ReadAssembly(path);
            bool cli = assembly.Name.Name == cliAssembly;
            foreach (var type in assembly.MainModule.GetTypes())
            {
                string? from = OwnNamespace(type, cli);
                if (from is null) continue;
                string fromKey = layerOf(from);
                foreach (var used in References(type))
                {
                    if (ShiftBenchNamespace(used) is not { } to) continue;
                    string toKey = layerOf(to);
                    if (toKey != fromKey) edges.TryAdd((fromKey, toKey), $"{type.FullName} uses {used.FullName}");
                }
            }
        }
        return new Graph(edges);
    }

    /// <summary>
    /// The first cycle found, as "A -> B -> A", or null. A depth-first search in sorted order, so the answer is stable.
    /// </summary>
    public static string? FindCycle(IEnumerable<(string From, string To)> edges)
    {
        var next = edges.GroupBy(e => e.From).ToDictionary(g => g.Key, g => g.Select(e => e.To).Distinct().Order(StringComparer.Ordinal).ToList());
        var done = new HashSet<string>();
        var path = new List<string>();
        string? Visit(string node)
        {
            int at = path.IndexOf(node);
            if (at >= 0) return string.Join(" -> ", path.Skip(at).Append(node));
            if (!done.Add(node)) return null;
            path.Add(node);
            foreach (var to in next.GetValueOrDefault(node) ?? [])
                if (Visit(to) is { } cycle) return cycle;
            path.RemoveAt(path.Count - 1);
            return null;
        }
        foreach (var node in next.Keys.Order(StringComparer.Ordinal))
            if (Visit(node) is { } cycle) return cycle;
        return null;
    }

    /// <summary>Every edge that does not go to a strictly lower layer, with its example, sorted.</summary>
    public static List<string> UpwardEdges(IReadOnlyDictionary<(string From, string To), string> edges, Func<string, int> rank) =>
        [.. edges.Where(e => rank(e.Key.To) >= rank(e.Key.From))
            .Select(e => $"{e.Key.From} -> {e.Key.To} (layer {rank(e.Key.From)} -> {rank(e.Key.To)}): {e.Value}")
            .Order(StringComparer.Ordinal)];

    /// <summary>A type's namespace, a nested (or compiler-generated) type's that of its outermost type; the CLI's top-level program counts as ShiftBench.Cli.</summary>
    static string? OwnNamespace(TypeDefinition type, bool cli)
    {
        while (type.DeclaringType is not null) type = type.DeclaringType;
        if (type.Namespace.StartsWith("ShiftBench", StringComparison.Ordinal)) return type.Namespace;
        return cli && type.Namespace.Length == 0 && type.Name == "Program" ? "ShiftBench.Cli" : null;
    }

    static string? ShiftBenchNamespace(TypeReference type)
    {
        while (type.DeclaringType is not null) type = type.DeclaringType;
        return type.Namespace == "ShiftBench" || type.Namespace.StartsWith("ShiftBench.", StringComparison.Ordinal) ? type.Namespace : null;
    }

    /// <summary>
    /// Every type a type definition names: base type, interfaces, attributes, generic constraints, fields, properties,
    /// events, method signatures, locals, exception handlers and instruction operands (types, methods, fields), with
    /// generic arguments and element types unwrapped.
    /// </summary>
    static IEnumerable<TypeReference> References(TypeDefinition type)
    {
        var found = new List<TypeReference>();
        void Add(TypeReference? t)
        {
            switch (t)
            {
                case null: return;
                case GenericInstanceType g:
                    Add(g.ElementType);
                    foreach (var a in g.GenericArguments) Add(a);
                    return;
                case IModifierType m:
                    Add(m.ModifierType);
                    Add(m.ElementType);
                    return;
                case FunctionPointerType f:
                    Add(f.ReturnType);
                    foreach (var p in f.Parameters) Add(p.ParameterType);
                    return;
                case TypeSpecification s: // arrays, by-reference, pointers, pinned, sentinels
                    Add(s.ElementType);
                    return;
                case GenericParameter:
                    return;
                default:
                    found.Add(t);
                    return;
            }
        }
        void AddMethod(MethodReference m)
        {
            Add(m.DeclaringType);
            Add(m.ReturnType);
            foreach (var p in m.Parameters) Add(p.ParameterType);
            if (m is GenericInstanceMethod g) foreach (var a in g.GenericArguments) Add(a);
        }
        void AddAttributes(ICustomAttributeProvider provider)
        {
            foreach (var attribute in provider.CustomAttributes)
            {
                AddMethod(attribute.Constructor);
                foreach (var argument in attribute.ConstructorArguments.Concat(attribute.Fields.Concat(attribute.Properties).Select(n => n.Argument)))
                {
                    Add(argument.Type);
                    if (argument.Value is TypeReference typeOf) Add(typeOf);
                }
            }
        }
        void AddGenericParameters(IGenericParameterProvider provider)
        {
            foreach (var p in provider.GenericParameters)
            {
                AddAttributes(p);
                foreach (var c in p.Constraints) Add(c.ConstraintType);
            }
        }

        Add(type.BaseType);
        foreach (var i in type.Interfaces) Add(i.InterfaceType);
        AddAttributes(type);
        AddGenericParameters(type);
        foreach (var field in type.Fields) { Add(field.FieldType); AddAttributes(field); }
        foreach (var property in type.Properties) { Add(property.PropertyType); AddAttributes(property); }
        foreach (var e in type.Events) { Add(e.EventType); AddAttributes(e); }
        foreach (var method in type.Methods)
        {
            AddMethod(method);
            AddAttributes(method);
            AddGenericParameters(method);
            foreach (var p in method.Parameters) AddAttributes(p);
            foreach (var o in method.Overrides) AddMethod(o);
            if (!method.HasBody) continue;
            foreach (var v in method.Body.Variables) Add(v.VariableType);
            foreach (var h in method.Body.ExceptionHandlers) Add(h.CatchType);
            foreach (var instruction in method.Body.Instructions)
                switch (instruction.Operand)
                {
                    case TypeReference t: Add(t); break;
                    case MethodReference m: AddMethod(m); break;
                    case FieldReference f: Add(f.DeclaringType); Add(f.FieldType); break;
                    case CallSite c: Add(c.ReturnType); foreach (var p in c.Parameters) Add(p.ParameterType); break;
                }
        }
        return found;
    }
}
