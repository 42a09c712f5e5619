using NexusCore.Bench.Load;

namespace NexusCore.Bench.Tests;

/// <summary>
/// The benchmark reports what a perfect TTL cache reaches in the steady state (Zipf.SteadyStateHitRate)
/// beside the hit rate it measures: the formula is checked here against a simulated cache fed by the
/// harness's own Zipf sampler.
/// </summary>
[NoStack]
public sealed class ZipfModelTests
{
    private const long Keys = 20_000;
    private const double Exponent = 0.99;
    private const double RequestsPerSecond = 1_000;
    private const double TtlSeconds = 20;

    [Theory]
    [InlineData(0)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public void TheSteadyStateFormulaMatchesASimulatedCache(double eagerRefreshThreshold)
    {
        var simulated = Simulate(eagerRefreshThreshold);
        var model = Zipf.SteadyStateHitRate(Keys, Exponent, RequestsPerSecond, TtlSeconds, eagerRefreshThreshold);

        Assert.InRange(model - simulated, -0.005, 0.005);
    }

    [Fact]
    public void EagerRefreshRaisesTheSteadyStateAndNeverLowersIt()
    {
        var without = Zipf.SteadyStateHitRate(Keys, Exponent, RequestsPerSecond, TtlSeconds);
        var late = Zipf.SteadyStateHitRate(Keys, Exponent, RequestsPerSecond, TtlSeconds, 0.9);
        var half = Zipf.SteadyStateHitRate(Keys, Exponent, RequestsPerSecond, TtlSeconds, 0.5);

        Assert.True(without < late && late < half, $"{without} < {late} < {half}");
    }

    /// <summary>
    /// Requests at a steady rate for ids drawn as the harness draws them; an entry is filled by a miss,
    /// expires a TTL later, and with eager refresh is filled again by the first read past the threshold.
    /// Measured over the second half of 40 TTLs, long after the cache filled.
    /// </summary>
    private static double Simulate(double threshold)
    {
        var zipf = new Zipf(Keys, Exponent, seed: 3);
        var filled = new Dictionary<long, double>();
        var requests = (long)(RequestsPerSecond * TtlSeconds * 40);
        long hits = 0, counted = 0;
        for (long i = 0; i < requests; i++)
        {
            var now = i / RequestsPerSecond;
            var id = zipf.NextId();
            var hit = filled.TryGetValue(id, out var at) && now - at < TtlSeconds;
            if (!hit || (threshold > 0 && now - at >= threshold * TtlSeconds))
            {
                filled[id] = now;
            }

            if (i >= requests / 2)
            {
                counted++;
                hits += hit ? 1 : 0;
            }
        }

        return (double)hits / counted;
    }
}
