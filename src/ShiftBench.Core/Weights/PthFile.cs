using static TorchSharp.torch;
namespace ShiftBench.Weights;
public static class PthFile { public static IReadOnlyDictionary<string, Tensor> ReadStateDict(string path) => throw new NotImplementedException(); }
public static class StateDictLoader { public static void Load(nn.Module module, IReadOnlyDictionary<string, Tensor> sd, string source) => throw new NotImplementedException(); }
