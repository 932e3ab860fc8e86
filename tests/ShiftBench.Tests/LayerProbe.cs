namespace ShiftBench.Tests.LayerProbe;

/// <summary>
/// Types that reach ShiftBench namespaces only in the places a reader of the compiled code can miss (NamespaceLayerTests
/// checks that it finds each): a lambda's body, a generic argument of a local, a type test.
/// </summary>
static class HiddenReferences
{
    public static Func<string, string> InALambda() => stem => Output.RunLayout.Csv(stem);

    public static int InAGenericLocal()
    {
        var list = new List<Models.Precision>();
        return list.Count;
    }

    public static bool InATypeTest(object value) => value is Datasets.FolderImage;
}
