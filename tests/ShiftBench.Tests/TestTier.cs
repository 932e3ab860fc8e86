namespace ShiftBench.Tests;

/// <summary>
/// Test categories. <see cref="Fast"/> is the everyday tier, `./test.sh --fast`: every zoo family and its antialiased
/// twin, ONNX, every dataset kind and protocol, the weights readers, datasets and resizing, metrics, each through
/// a few representative cases (docs/development.md says how it is chosen). `./test.sh` runs everything.
/// </summary>
public static class TestTier
{
    public const string Fast = "Fast";
}
