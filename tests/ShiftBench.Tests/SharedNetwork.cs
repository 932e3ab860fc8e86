using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Tests;

/// <summary>
/// The network a fixture built last, kept for its next case with the same key: on deterministic weights the key fixes the
/// network, and building and filling it is most of a small case's time (VGG16's 138M weights). One at a time, so memory
/// stays that of one network; cases named alike run one after another. Cases only read it: a checksum of every
/// parameter and buffer, taken when it is built, is checked again each time it is handed out.
/// </summary>
public sealed class SharedNetwork<TKey, TNetwork>(Func<TNetwork, nn.Module> moduleOf) : IDisposable
    where TKey : notnull where TNetwork : class, IDisposable
{
    TKey? key;
    TNetwork? network;
    double checksum;

    /// <summary>How many networks were built (a test of the cache itself reads it).</summary>
    public int Built { get; private set; }

    public TNetwork Get(TKey wanted, Func<TNetwork> build)
    {
        if (network is not null && EqualityComparer<TKey>.Default.Equals(key, wanted))
        {
            Assert.That(Checksum(moduleOf(network)), Is.EqualTo(checksum), $"an earlier case changed the shared network {key}");
            return network;
        }
        network?.Dispose();
        network = null;
        var built = build();
        (key, network, checksum) = (wanted, built, Checksum(moduleOf(built)));
        Built++;
        return built;
    }

    static double Checksum(nn.Module module)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return module.state_dict().Values.Sum(t => t.to(ScalarType.Float64).abs().sum().item<double>());
    }

    public void Dispose()
    {
        network?.Dispose();
        network = null;
    }
}
