using NexusCore.PerfApi.Ingest;
using NexusCore.PerfApi.Store;
using static NexusCore.PerfApi.Tests.Telemetry.StoreFixtures;

namespace NexusCore.PerfApi.Tests.Telemetry;

[NoStack]
public sealed class MetricStoreTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    [Fact]
    public void CumulativeSumsBecomeDeltasAndANewStartTimeCountsWhole()
    {
        var (store, clock) = Create();
        var start = clock.GetUtcNow().AddSeconds(1);
        clock.Advance(TimeSpan.FromMinutes(1));
        var restart = start.AddSeconds(35);
        store.Apply(new MetricBatch(
        [
            CacheHits(start, start.AddSeconds(10), 10),
            CacheHits(start, start.AddSeconds(20), 25),
            CacheHits(start, start.AddSeconds(30), 25),
            CacheHits(restart, start.AddSeconds(40), 5),
            CacheHits(restart, start.AddSeconds(50), 12),
        ], 5, 0));

        var series = Assert.Single(store.Metrics.Series("nexuscore.cache.hits", Hour));

        // Deltas 10, 15, 0, then 5 after the restart (a new start time), then 7.
        Assert.Equal(37, series.Total);
        Assert.Equal(12, series.LastValue);
        Assert.Equal([10.0, 15, 0, 5, 7], series.Buckets.Where(b => b.Start > start.AddSeconds(5)).Take(5).Select(b => b.Delta));
        Assert.Equal(37, store.Metrics.Increase("nexuscore.cache.hits", Hour));
        Assert.Equal(5, store.Counters.Snapshot().MetricPointsAggregated);
    }

    [Fact]
    public void ACumulativeSeriesOlderThanPerfApiIsABaselineAndADropIsAReset()
    {
        var (store, clock) = Create();
        var longAgo = clock.GetUtcNow().AddDays(-1);
        var now = clock.GetUtcNow();
        clock.Advance(TimeSpan.FromMinutes(1));
        store.Apply(new MetricBatch(
        [
            CacheHits(longAgo, now.AddSeconds(5), 1_000),
            CacheHits(longAgo, now.AddSeconds(15), 1_030),
            CacheHits(longAgo, now.AddSeconds(25), 4),
        ], 3, 0));

        var series = Assert.Single(store.Metrics.Series("nexuscore.cache.hits", Hour));

        // What happened before PerfApi watched is not new; 30 more is; a value that went down restarted from zero.
        Assert.Equal(34, series.Total);
    }

    [Fact]
    public void ARetriedCumulativeExportIsNotCountedTwice()
    {
        var (store, clock) = Create();
        var start = clock.GetUtcNow().AddSeconds(1);
        clock.Advance(TimeSpan.FromMinutes(1));
        var point = CacheHits(start, start.AddSeconds(10), 10);

        store.Apply(new MetricBatch([point, point, CacheHits(start, start.AddSeconds(5), 8)], 3, 0));

        Assert.Equal(10, Assert.Single(store.Metrics.Series("nexuscore.cache.hits")).Total);
    }

    [Fact]
    public void DeltaSumsAddUpAndEachAttributeSetIsItsOwnSeries()
    {
        var (store, clock) = Create();
        var now = clock.GetUtcNow();
        clock.Advance(TimeSpan.FromSeconds(30));
        store.Apply(new MetricBatch(
        [
            Point("nexuscore.cache.misses", MetricKind.Sum, now, 4, MetricTemporality.Delta, ("query.type", "find")),
            Point("nexuscore.cache.misses", MetricKind.Sum, now.AddSeconds(10), 6, MetricTemporality.Delta, ("query.type", "find")),
            Point("nexuscore.cache.misses", MetricKind.Sum, now.AddSeconds(10), 1, MetricTemporality.Delta, ("query.type", "count")),
        ], 3, 0));

        var find = Assert.Single(store.Metrics.Series("nexuscore.cache.misses", Hour, new MetricFilter(Attributes: new Dictionary<string, string> { ["query.type"] = "find" })));

        Assert.Equal(10, find.Total);
        Assert.Equal(2, store.Metrics.Series("nexuscore.cache.misses").Count);
        Assert.Equal(11, store.Metrics.Increase("nexuscore.cache.misses", Hour));
    }

    [Fact]
    public void GaugesAndUpDownCountersKeepTheLatestLevelPerAttributeSet()
    {
        var (store, clock) = Create();
        var now = clock.GetUtcNow();
        clock.Advance(TimeSpan.FromSeconds(30));
        var pool = ("pool.name", "Host=db;Database=clientsdb");
        store.Apply(new MetricBatch(
        [
            Point("db.client.connections.usage", MetricKind.Sum, now, 3, MetricTemporality.Cumulative, ("state", "idle"), pool),
            Point("db.client.connections.usage", MetricKind.Sum, now.AddSeconds(1), 5, MetricTemporality.Cumulative, ("state", "idle"), pool),
            Point("db.client.connections.usage", MetricKind.Sum, now.AddSeconds(2), 2, MetricTemporality.Cumulative, ("state", "idle"), pool),
            Point("db.client.connections.usage", MetricKind.Sum, now.AddSeconds(2), 7, MetricTemporality.Cumulative, ("state", "used"), pool),
            Point("db.client.connections.max", MetricKind.Sum, now.AddSeconds(2), 100, MetricTemporality.Cumulative, pool),
            Point("nexuscore.cache.entries", MetricKind.Gauge, now.AddSeconds(2), 1_500, MetricTemporality.Unspecified, ("query.type", "find")),
        ], 6, 0));

        var usage = store.Metrics.Series("db.client.connections.usage", TimeSpan.FromMinutes(1), new MetricFilter(Service: "clients-api"));

        var idle = Assert.Single(usage, s => s.Attributes["state"] == "idle");
        Assert.Equal(2, idle.LastValue);
        var bucket = Assert.Single(idle.Buckets, b => b.Last is not null);
        Assert.Equal((2.0, 2.0, 5.0), (bucket.Last, bucket.Min, bucket.Max));
        Assert.Equal(7, Assert.Single(usage, s => s.Attributes["state"] == "used").LastValue);
        Assert.Equal(100, Assert.Single(store.Metrics.Series("db.client.connections.max")).LastValue);
        Assert.Equal(1_500, Assert.Single(store.Metrics.Series("nexuscore.cache.entries")).LastValue);
        Assert.Equal(["db.client.connections.max", "db.client.connections.usage", "nexuscore.cache.entries"], store.Metrics.Names());
    }

    [Fact]
    public void CumulativeHistogramsBecomeDeltaBucketCountsAndQuantilesInterpolateWithinABucket()
    {
        var (store, clock) = Create();
        var start = clock.GetUtcNow().AddSeconds(1);
        clock.Advance(TimeSpan.FromSeconds(40));
        double[] bounds = [5, 10, 25, 50];
        store.Apply(new MetricBatch(
        [
            Histogram(start, start.AddSeconds(10), "ms", bounds, [2, 4, 0, 0, 0], sum: 40),
            Histogram(start, start.AddSeconds(20), "ms", bounds, [2, 10, 4, 0, 0], sum: 150),
            Histogram(start, start.AddSeconds(30), "ms", bounds, [2, 10, 4, 0, 1], sum: 250),
        ], 3, 0));

        var all = store.Metrics.Histogram("nexuscore.query.duration", Hour)!;
        var lastThirtySeconds = store.Metrics.Histogram("nexuscore.query.duration", TimeSpan.FromSeconds(30))!;

        Assert.Equal(17, all.Count);
        Assert.Equal(250, all.Sum, 9);
        Assert.Equal([2L, 10, 4, 0, 1], all.BucketCounts);
        Assert.Equal([5.0, 10, 25, 50], all.Bounds);
        Assert.Equal("ms", all.Unit);

        // Rank 8.5 of 17 falls in (5, 10] holding ranks 3..12: 5 + 5 × 6.5 / 10.
        Assert.Equal(8.25, all.Quantile(0.5)!.Value, 9);
        Assert.Equal(50, all.Quantile(1)!.Value, 9);
        Assert.Equal(11, lastThirtySeconds.Count);
        Assert.Equal([0L, 6, 4, 0, 1], lastThirtySeconds.BucketCounts);
    }

    [Fact]
    public void HistogramsInSecondsAreConvertedToMilliseconds()
    {
        var (store, clock) = Create();
        var now = clock.GetUtcNow();
        clock.Advance(TimeSpan.FromSeconds(30));
        store.Apply(new MetricBatch(
            [Histogram(now, now.AddSeconds(5), "s", [0.005, 0.01], [1, 2, 1], sum: 0.04, MetricTemporality.Delta)], 1, 0));

        var histogram = store.Metrics.Histogram("nexuscore.query.duration", Hour)!;

        Assert.Equal("ms", histogram.Unit);
        Assert.Equal([5.0, 10], histogram.Bounds);
        Assert.Equal(40, histogram.Sum, 9);
        Assert.Equal(10, histogram.Mean!.Value, 9);
    }

    [Fact]
    public void InstancesOfOneServiceKeepSeparateCumulativeState()
    {
        var (store, clock) = Create();
        var start = clock.GetUtcNow().AddSeconds(1);
        clock.Advance(TimeSpan.FromMinutes(1));
        store.Apply(new MetricBatch(
        [
            CacheHits(start, start.AddSeconds(10), 100) with { Instance = "a" },
            CacheHits(start, start.AddSeconds(10), 5) with { Instance = "b" },
            CacheHits(start, start.AddSeconds(20), 110) with { Instance = "a" },
            CacheHits(start, start.AddSeconds(20), 6) with { Instance = "b" },
        ], 4, 0));

        Assert.Equal(116, store.Metrics.Increase("nexuscore.cache.hits", Hour));
    }

    [Fact]
    public void ANewSeriesBeyondTheLimitReplacesTheLeastRecentlySeenAndExpiredSeriesAreSwept()
    {
        var (store, clock) = Create(o => o.MaxMetricSeries = 1);
        var now = clock.GetUtcNow();
        store.Apply(new MetricBatch(
        [
            Point("nexuscore.cache.size", MetricKind.Gauge, now.AddSeconds(-20), 1, MetricTemporality.Unspecified),
            Point("nexuscore.cache.entries", MetricKind.Gauge, now, 2, MetricTemporality.Unspecified),
        ], 2, 0));

        Assert.Equal(["nexuscore.cache.entries"], store.Metrics.Names());
        Assert.Equal(1, store.Counters.Snapshot().MetricSeriesEvicted);

        clock.Advance(TimeSpan.FromMinutes(61));
        store.Sweep();
        Assert.Equal(0, store.Metrics.Count);
        store.Apply(new MetricBatch([Point("nexuscore.cache.size", MetricKind.Gauge, clock.GetUtcNow(), 2, MetricTemporality.Unspecified)], 1, 0));

        Assert.Equal(["nexuscore.cache.size"], store.Metrics.Names());
        Assert.Equal(1, store.Counters.Snapshot().MetricSeriesEvicted);
    }

    [Fact]
    public void PointsOlderThanTheRetentionAreCountedAsTooOld()
    {
        var (store, clock) = Create();
        store.Apply(new MetricBatch(
            [Point("nexuscore.cache.size", MetricKind.Gauge, clock.GetUtcNow().AddHours(-2), 1, MetricTemporality.Unspecified)], 1, 0));

        Assert.Equal(1, store.Counters.Snapshot().MetricPointsTooOld);
        Assert.Empty(store.Metrics.Names());
    }

    private static MetricPoint CacheHits(DateTimeOffset start, DateTimeOffset time, double value) => new()
    {
        Service = "clients-api",
        Name = "nexuscore.cache.hits",
        Kind = MetricKind.Sum,
        IsMonotonic = true,
        Temporality = MetricTemporality.Cumulative,
        Attributes = [new("query.type", "find")],
        StartUnixNanos = Nanos(start),
        TimeUnixNanos = Nanos(time),
        Value = value,
    };

    private static MetricPoint Point(
        string name, MetricKind kind, DateTimeOffset time, double value, MetricTemporality temporality, params (string Key, string Value)[] attributes) => new()
        {
            Service = "clients-api",
            Name = name,
            Kind = kind,
            IsMonotonic = name.EndsWith(".misses", StringComparison.Ordinal),
            Temporality = temporality,
            Attributes = attributes.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => new KeyValuePair<string, string>(a.Key, a.Value)).ToArray(),
            StartUnixNanos = Nanos(time.AddSeconds(-10)),
            TimeUnixNanos = Nanos(time),
            Value = value,
        };

    private static MetricPoint Histogram(
        DateTimeOffset start, DateTimeOffset time, string unit, double[] bounds, long[] counts, double sum,
        MetricTemporality temporality = MetricTemporality.Cumulative) => new()
        {
            Service = "clients-api",
            Name = "nexuscore.query.duration",
            Unit = unit,
            Kind = MetricKind.Histogram,
            Temporality = temporality,
            Attributes = [new("query.type", "find")],
            StartUnixNanos = Nanos(start),
            TimeUnixNanos = Nanos(time),
            Count = counts.Sum(),
            Sum = sum,
            Bounds = bounds,
            BucketCounts = counts,
        };
}
