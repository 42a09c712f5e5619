using NexusCore.PerfApi.Analysis.Performance;
using NexusCore.PerfApi.Store;
using OpenTelemetry.Proto.Metrics.V1;
using static NexusCore.PerfApi.Tests.Features.Otlp.OtlpPayloads;

namespace NexusCore.PerfApi.Tests.Performance;

[NoStack]
public sealed class PerformanceReaderTests
{
    private static readonly TimeSpan FiveMinutes = TimeSpan.FromMinutes(5);

    [Fact]
    public void CacheLookupsAreReadFromTheCacheCountersPerQueryTypeWithStaleReadsAsHitsAndEveryInstanceAddedUp()
    {
        var telemetry = new SyntheticTelemetry();
        telemetry.Lookups("find", hits: 7, misses: 3);
        telemetry.Lookups("search", hits: 1, misses: 4);
        telemetry.Lookups("find", hits: 2, misses: 0, service: "clients-api-2");
        telemetry.Metrics("clients-api", "instance-2",
            Sum(WellKnownMetrics.CacheStale, "{request}", isMonotonic: true, AggregationTemporality.Delta,
                Integer(telemetry.Now.AddSeconds(-1), telemetry.Now, 3, Attribute(PerformanceReader.QueryTypeAttribute, "find"))));
        telemetry.Queries("write", [2, 3]);

        var lookups = telemetry.Reader.CacheLookups(FiveMinutes);

        Assert.Equal(["find", "search"], lookups.Select(l => l.QueryType));
        Assert.Equal(new CacheLookups("find", 12, 3), lookups[0]);
        Assert.Equal(80.0, lookups[0].HitRatePercent!.Value, 9);
        Assert.Equal(20.0, lookups[1].HitRatePercent!.Value, 9);
        var total = PerformanceReader.Total(lookups);
        Assert.Equal((13L, 7L), (total.Hits, total.Misses));
    }

    [Fact]
    public void CumulativeCacheCountersCountTheirIncreaseInTheWindow()
    {
        var telemetry = new SyntheticTelemetry();
        telemetry.CacheCounters("analytics", hits: 12, misses: 4);
        telemetry.Clock.Advance(TimeSpan.FromMinutes(2));
        telemetry.CacheCounters("analytics", hits: 15, misses: 4);

        Assert.Equal([new CacheLookups("analytics", 15, 4)], telemetry.Reader.CacheLookups(FiveMinutes));
        Assert.Equal([new CacheLookups("analytics", 3, 0)], telemetry.Reader.CacheLookups(TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public void QueryFiguresComeFromTheDurationHistogramNotFromSpans()
    {
        var telemetry = new SyntheticTelemetry();
        telemetry.Queries("find", [10, 20, 30]);
        telemetry.Sql("SELECT 1", [500]);

        var stats = telemetry.Reader.Queries(FiveMinutes);

        Assert.Equal(3, stats.Count);
        Assert.Equal(20.0, stats.MeanMs, 9);
        Assert.Equal(30.0, stats.MaxMs, 9);
        Assert.Equal(["find"], telemetry.Reader.QueryTypes(FiveMinutes));
    }

    [Fact]
    public void PoolsReadNpgsql10AndNpgsql8NamesWithUtilizationAvailabilityAndTheirPeak()
    {
        var telemetry = new SyntheticTelemetry();
        telemetry.Pool(used: 9, idle: 1, max: 10, at: telemetry.Now.AddSeconds(-30));
        telemetry.Pool(used: 2, idle: 8, max: 10);
        telemetry.Pool(used: 3, idle: 1, max: 20, service: "perf-api", legacyNames: true);

        var pools = telemetry.Reader.Pools(FiveMinutes);

        Assert.Equal(2, pools.Count);
        var clients = pools[0];
        Assert.Equal(("clients-api", "instance-1", "clientsdb"), (clients.Service, clients.Instance, clients.Pool));
        Assert.Equal((2L, 8L, (long?)10L, (long?)8L, 9L), (clients.Used, clients.Idle, clients.Max, clients.Available, clients.PeakUsed));
        Assert.Equal(20.0, clients.UtilizationPercent!.Value, 9);
        Assert.Equal(90.0, clients.PeakUtilizationPercent!.Value, 9);
        Assert.Equal((3L, 1L, (long?)20L), (pools[1].Used, pools[1].Idle, pools[1].Max));

        var totals = PoolTotals.Of(pools);
        Assert.Equal(new PoolTotals(5, 9, 30, 25, 100.0 * 5 / 30, 2), totals);
    }

    [Fact]
    public void APoolOrCacheThatStoppedReportingAMinuteAgoIsGone()
    {
        var telemetry = new SyntheticTelemetry();
        var old = telemetry.Now - PerformanceReader.Freshness - TimeSpan.FromSeconds(1);
        telemetry.Pool(used: 10, idle: 0, max: 10, at: old);
        telemetry.CacheMemory(entries: 10, megabytes: 500, at: old);

        Assert.Empty(telemetry.Reader.Pools(FiveMinutes));
        Assert.Empty(telemetry.Reader.CacheMemory());
    }

    [Fact]
    public void CacheMemoryIsReadPerServiceInstanceInMegabytes()
    {
        var telemetry = new SyntheticTelemetry();
        telemetry.CacheMemory(entries: 1200, megabytes: 12.5);
        telemetry.CacheMemory(entries: 30, megabytes: 0.25, instance: "instance-2");

        var caches = telemetry.Reader.CacheMemory();

        Assert.Equal(2, caches.Count);
        Assert.Equal(("instance-1", 1200L), (caches[0].Instance, caches[0].Entries));
        Assert.Equal(12.5, caches[0].SizeMb, 9);
        Assert.Equal(0.25, caches[1].SizeMb, 9);
    }

    [Fact]
    public void HugeNegativeAndOverflowingMetricValuesSaturateInsteadOfThrowing()
    {
        var telemetry = new SyntheticTelemetry();
        var now = telemetry.Now;
        var start = telemetry.CountersStart;
        foreach (var instance in new[] { "instance-1", "instance-2" })
        {
            // Two pools of 1e300 connections (their sum is past long.MaxValue) and two caches of 1e308 bytes
            // (past double.MaxValue together) with a negative number of entries.
            telemetry.Metrics("huge", instance,
                Gauge(WellKnownMetrics.ConnectionMax, "{connection}", Number(start, now, 1e300, Attribute("db.client.connection.pool.name", "p"))),
                Sum(WellKnownMetrics.ConnectionCount, "{connection}", isMonotonic: false, AggregationTemporality.Cumulative,
                    Number(start, now, 1e300, Attribute("db.client.connection.pool.name", "p"), Attribute("db.client.connection.state", "used")),
                    Number(start, now, -7, Attribute("db.client.connection.pool.name", "p"), Attribute("db.client.connection.state", "idle"))),
                Gauge(WellKnownMetrics.CacheSize, "By", Number(now, now, 1e308)),
                Gauge(WellKnownMetrics.CacheEntries, "{entry}", Number(now, now, -1e300)));
        }

        // Cache counters: 1e300 hits of two query types; misses of one that overflow to infinity inside the store
        // (two deltas of 1.5e308 in one bucket).
        foreach (var type in new[] { "find", "search" })
        {
            telemetry.Metrics("huge", "instance-1",
                Sum(WellKnownMetrics.CacheHits, "{request}", isMonotonic: true, AggregationTemporality.Cumulative,
                    Number(start, now, 1e300, Attribute(PerformanceReader.QueryTypeAttribute, type))));
        }

        telemetry.Metrics("huge", "instance-1",
            Sum(WellKnownMetrics.CacheMisses, "{request}", isMonotonic: true, AggregationTemporality.Delta,
                Number(start, now, 1.5e308, Attribute(PerformanceReader.QueryTypeAttribute, "find")),
                Number(start, now, 1.5e308, Attribute(PerformanceReader.QueryTypeAttribute, "find"))));

        var pools = telemetry.Reader.Pools(FiveMinutes);
        Assert.Equal(2, pools.Count);
        Assert.All(pools, p => Assert.Equal((long.MaxValue, 0L, (long?)long.MaxValue, long.MaxValue, (long?)0L), (p.Used, p.Idle, p.Max, p.PeakUsed, p.Available)));
        var totals = PoolTotals.Of(pools);
        Assert.Equal((long.MaxValue, 0L, long.MaxValue, 0L, 2), (totals.Active, totals.Idle, totals.Max, totals.Available, totals.Pools));
        Assert.Equal(100.0, totals.UtilizationPercent!.Value, 9);

        var lookups = telemetry.Reader.CacheLookups(FiveMinutes);
        Assert.Equal(new CacheLookups("find", long.MaxValue, long.MaxValue), lookups[0]);
        Assert.Equal(50.0, lookups[0].HitRatePercent!.Value, 9);
        Assert.Equal(long.MaxValue, lookups[0].Lookups);
        var total = PerformanceReader.Total(lookups);
        Assert.Equal((long.MaxValue, long.MaxValue), (total.Hits, total.Misses));

        var caches = telemetry.Reader.CacheMemory();
        Assert.Equal(2, caches.Count);
        Assert.All(caches, c => Assert.Equal((0L, 1e308), (c.Entries, c.SizeBytes)));
        Assert.Equal(double.MaxValue, Saturating.Sum(caches.Select(c => c.SizeBytes)));
    }
}
