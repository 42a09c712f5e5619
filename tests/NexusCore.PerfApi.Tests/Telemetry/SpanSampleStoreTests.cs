using static NexusCore.PerfApi.Tests.Telemetry.StoreFixtures;

namespace NexusCore.PerfApi.Tests.Telemetry;

[NoStack]
public sealed class SpanSampleStoreTests
{
    [Fact]
    public void SpansAtOrAboveTheThresholdAreKeptSlowestFirstWithTheirStatement()
    {
        var (store, clock) = Create(o => o.SpanSampleThreshold = TimeSpan.FromMilliseconds(10));
        var now = clock.GetUtcNow();
        store.Apply(Batch(
            Query(now, TimeSpan.FromMilliseconds(9)),
            Query(now, TimeSpan.FromMilliseconds(10), queryType: "count"),
            SqlSpan(now, TimeSpan.FromMilliseconds(250), "SELECT * FROM clients WHERE email = 'x@y.z'", traceId: 42, spanId: 7)));

        var samples = store.Samples.Slowest(TimeSpan.FromMinutes(5), TimeSpan.Zero, limit: 10);

        Assert.Equal([250.0, 10.0], samples.Select(s => s.DurationMs));
        Assert.Equal("SELECT * FROM clients WHERE email = ?", samples[0].Statement);
        Assert.Equal("0000000000000000000000000000002a", samples[0].TraceId);
        Assert.Equal("0000000000000007", samples[0].SpanId);
        Assert.Equal("count", samples[1].Key.QueryType);
        Assert.Equal(250.0, Assert.Single(store.Samples.Slowest(TimeSpan.FromMinutes(5), TimeSpan.FromMilliseconds(100), 10)).DurationMs);
    }

    [Fact]
    public void TheRingKeepsOnlyTheMostRecentSamplesAndTheWindowHidesOldOnes()
    {
        var (store, clock) = Create(o =>
        {
            o.MaxSpanSamples = 3;
            o.SpanSampleThreshold = TimeSpan.Zero;
        });
        var t0 = clock.GetUtcNow();
        clock.Advance(TimeSpan.FromMinutes(10));
        store.Apply(Batch(Enumerable.Range(1, 5).Select(i => Query(t0.AddMinutes(i), TimeSpan.FromMilliseconds(i))).ToArray()));

        Assert.Equal([5.0, 4, 3], store.Samples.Slowest(TimeSpan.FromHours(1), TimeSpan.Zero, 10).Select(s => s.DurationMs));
        Assert.Equal([5.0], store.Samples.Slowest(TimeSpan.FromMinutes(5), TimeSpan.Zero, 10).Select(s => s.DurationMs));
    }
}
