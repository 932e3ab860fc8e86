using static TorchSharp.torch;
namespace ShiftBench.Models;
public static class DeterministicWeights { public static void Fill(nn.Module module) { using var _ = no_grad(); manual_seed(0); foreach (var (n, t) in module.state_dict()) if (t.is_floating_point()) { if (n.EndsWith("running_var")) t.fill_(1); else t.normal_(0, 0.02); } } }
