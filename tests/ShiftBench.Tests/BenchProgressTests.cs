using ShiftBench.Models;
using ShiftBench.Runs;
using ShiftBench.Workflows;
using TorchSharp;
using static TorchSharp.torch;

namespace ShiftBench.Tests;

/// <summary>The rates progress lines show (on a clock the test moves) and the updates bench's forward loop sends them.</summary>
public class BenchProgressTests
{
    sealed class FakeClock
    {
        public TimeSpan Now;
        public ProgressRates Rates() => new(() => Now);
    }

    static ProgressUpdate Images(string task, long done, long total) => new(task, done, total, "images");

    [Test]
    public void EqualRoundsOfTheSameTaskReadEqualRates()
    {
        var clock = new FakeClock();
        var rates = clock.Rates();
        var last = new List<double>();
        // Six runs of one task, 64 images in 8 s each, one after another (bench's alternating reuse rounds).
        for (int round = 0; round < 6; round++)
        {
            Assert.That(rates.Observe(Images("alexnet torchvision berry", 0, 64)).NewPass, Is.True, $"round {round} starts a pass");
            for (int batch = 1; batch <= 4; batch++)
            {
                clock.Now += TimeSpan.FromSeconds(2);
                var reading = rates.Observe(Images("alexnet torchvision berry", 16 * batch, 64));
                Assert.That(reading.NewPass, Is.False);
                if (batch == 4) last.Add(reading.Rate!.Value);
            }
        }
        Assert.That(last, Has.All.EqualTo(8.0).Within(1e-9));
    }

    [Test]
    public void TheForwardOnlyRateIsImagesOverTheBenchClock()
    {
        // Benchmark.ForwardImagesPerSecond reports 0 when its clock starts, then each batch; its figure is done / elapsed.
        var clock = new FakeClock { Now = TimeSpan.FromSeconds(30) }; // time spent before (loading, warm-up) is not counted
        var rates = clock.Rates();
        Assert.That(rates.Observe(Images("forward only (fp32)", 0, 128)).Rate, Is.Null, "nothing done yet: no rate");
        clock.Now += TimeSpan.FromSeconds(0.25);
        rates.Observe(Images("forward only (fp32)", 64, 128));
        clock.Now += TimeSpan.FromSeconds(0.5);
        var reading = rates.Observe(Images("forward only (fp32)", 128, 128));
        Assert.That(reading.Rate, Is.EqualTo(128 / 0.75).Within(1e-9));
        Assert.That(reading.PassElapsed, Is.EqualTo(TimeSpan.FromSeconds(0.75)));
    }

    [Test]
    public void AFirstUpdatePastZeroCountsOnlyWhatFollowsIt()
    {
        // A resumed run's first update is where it resumed; a lone final update has no rate, not an absurd one.
        var clock = new FakeClock();
        var rates = clock.Rates();
        Assert.That(rates.Observe(Images("resumed", 500, 1000)).Rate, Is.Null);
        clock.Now += TimeSpan.FromSeconds(10);
        Assert.That(rates.Observe(Images("resumed", 600, 1000)).Rate, Is.EqualTo(10.0).Within(1e-9));
        Assert.That(rates.Observe(Images("alone", 64, 64)).Rate, Is.Null);
        clock.Now += TimeSpan.FromSeconds(1);
        Assert.That(rates.Observe(Images("other task", 0, 8)).NewPass, Is.True, "tasks are tracked apart");
        clock.Now += TimeSpan.FromSeconds(1);
        Assert.That(rates.Observe(Images("resumed", 620, 1000)).Rate, Is.EqualTo(120 / 12.0).Within(1e-9), "another task's updates do not restart this one");
    }

    [Test]
    public void BenchForwardLoopReportsZeroAtItsStartThenEachBatch()
    {
        var updates = new List<ProgressUpdate>();
        using var model = nn.Sequential(("pool", nn.AdaptiveAvgPool2d(1)));
        double rate = Benchmark.ForwardImagesPerSecond(model, batchSize: 2, images: 5, CPU, Precision.Fp32, new Recorder(updates));
        Assert.That(updates.Select(u => u.Done), Is.EqualTo(new long[] { 0, 2, 4, 6 }));
        Assert.That(updates.Select(u => u.Task).Distinct(), Is.EqualTo(new[] { "forward only (fp32)" }));
        Assert.That(updates.Select(u => u.Total), Has.All.EqualTo(5));
        Assert.That(rate, Is.GreaterThan(0));
    }

    /// <summary>Records synchronously (Progress&lt;T&gt; would post to a context, out of order).</summary>
    sealed class Recorder(List<ProgressUpdate> updates) : IProgress<ProgressUpdate>
    {
        public void Report(ProgressUpdate value) => updates.Add(value);
    }

    [Test]
    public void CpuInfoNamesTheModelAndTheFastPrecisionFlags()
    {
        const string text = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\nflags\t\t: fpu sse avx512f avx512_bf16 amx_bf16 amx_tile\n\nprocessor\t: 1\nmodel name\t: other\n";
        var cpu = CpuInfo.Parse(text, cores: 2);
        Assert.That(cpu.Model, Is.EqualTo("Intel(R) Xeon(R) Platinum 8480+"));
        Assert.That(cpu.Flags, Is.EquivalentTo(new[] { "avx512_bf16", "amx_bf16" }));
        string slow = cpu.Verdict(Precision.Bf16, 0.78, 0.9);
        Assert.That(slow, Does.StartWith("bf16 is 0.78x fp32 forward (0.90x end to end) on this CPU (Intel(R) Xeon(R) Platinum 8480+, 2 cores; reports avx512_bf16, amx_bf16)")
            .And.Contain("does not pay here: use fp32"));
        Assert.That(cpu.Verdict(Precision.Bf16, 2.1, 1.5), Does.Contain("bf16 pays here"));
        var bare = CpuInfo.Parse("model name : AMD EPYC\nflags : fpu avx2\n", cores: 4);
        Assert.That(bare.Verdict(Precision.Bf16, 0.5, 0.6), Does.Contain("(AMD EPYC, 4 cores; no avx512_bf16, amx_bf16)"));
        Assert.That(CpuInfo.Parse("", 1).Model, Is.EqualTo("unknown CPU"));
    }
}
