namespace ShiftBench.Datasets.Kinds;

/// <summary>
/// Every dataset kind, in the order error messages list them. A new kind: its class in this folder and one line here.
/// Tests may <see cref="Register"/> kinds of their own.
/// </summary>
public static class DatasetKinds
{
    static readonly List<DatasetKind> kinds =
    [
        new PatchOnCanvasKind(),
        new CropWindowKind(),
        new PatchFolderKind(),
        new RollShiftKind(),
        new SubpixelShiftKind(),
    ];
    static readonly Lock gate = new();

    public static IReadOnlyList<DatasetKind> All { get { lock (gate) return [.. kinds]; } }

    public static IReadOnlyList<string> Names => [.. All.Select(k => k.Name)];

    /// <summary>The kind named <paramref name="name"/>, or null for a name no kind has.</summary>
    public static DatasetKind? Find(string? name) => All.FirstOrDefault(k => k.Name == name);

    /// <summary>Adds a kind (a plug-in's or a test's); a name already taken is a programming error.</summary>
    public static void Register(DatasetKind kind)
    {
        lock (gate)
        {
            if (kinds.Any(k => k.Name == kind.Name)) throw new InvalidOperationException($"dataset kind '{kind.Name}' is registered already");
            kinds.Add(kind);
        }
    }

    /// <summary>Removes a kind that <see cref="Register"/> added (tests clean up after themselves).</summary>
    public static void Unregister(DatasetKind kind)
    {
        lock (gate) kinds.Remove(kind);
    }
}
