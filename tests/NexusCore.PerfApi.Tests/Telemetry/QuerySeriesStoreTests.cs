using NexusCore.PerfApi.Store;
using static NexusCore.PerfApi.Tests.Telemetry.StoreFixtures;

namespace NexusCore.PerfApi.Tests.Telemetry;

public sealed class QuerySeriesStoreTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    [Fact]
    public void QuerySpansAddUpToExactCountsDurationsCacheHitsRowsAndErrorsPerSeries()
    {
        var (store, clock) = Create();
        var now = clock.GetUtcNow();
        store.Apply(Batch(
            Query(now, TimeSpan.FromMilliseconds(2), cacheHit: true, rows: 1),
            Query(now, TimeSpan.FromMilliseconds(4), cacheHit: false, rows: 1),
            Query(now, TimeSpan.FromMilliseconds(12), cacheHit: false, rows: 0, isError: true),
            Query(now, TimeSpan.FromMilliseconds(30), queryType: "search", table: "clients", operation: "by_name", rows: 25)));

        var series = store.Queries.List(Hour);

        Assert.Equal(2, series.Count);
        var find = Assert.Single(series, s => s.Key == new QueryKey("clients-api", "clients", "by_id", "find")).Stats;
        Assert.Equal(3, find.Count);
        Assert.Equal(6.0, find.MeanMs, 9);
        Assert.Equal(12.0, find.MaxMs, 9);
        Assert.Equal(1, find.CacheHits);
        Assert.Equal(2, find.CacheMisses);
        Assert.Equal(1.0 / 3, find.CacheHitRatio!.Value, 9);
        Assert.Equal(2, find.Rows);
        Assert.Equal(1, find.Errors);
        var search = Assert.Single(series, s => s.Key.QueryType == "search").Stats;
        Assert.Equal(1, search.Count);
        Assert.Equal(25, search.Rows);
        Assert.Null(search.CacheHitRatio);
        Assert.Equal(4, store.Counters.Snapshot().QuerySpansAggregated);
    }

    [Fact]
    public void PercentilesOfASeriesAreWithinTheHistogramErrorOfTheExactValues()
    {
        var (store, clock) = Create();
        var now = clock.GetUtcNow();

        // 1 ms … 1000 ms in 1 ms steps: the exact nearest-rank p50, p95 and p99 are 500, 950 and 990 ms.
        store.Apply(Batch(Enumerable.Range(1, 1000).Select(ms => Query(now, TimeSpan.FromMilliseconds(ms))).ToArray()));

        var stats = store.Queries.Summarize(Hour, new QueryFilter(QueryType: "find"));

        Assert.Equal(1000, stats.Count);
        Assert.Equal(500.5, stats.MeanMs, 9);
        Assert.Equal(1000, stats.MaxMs, 9);
        Assert.InRange(stats.P50Ms!.Value, 500 * (1 - LatencyHistogram.RelativeError), 500 * (1 + LatencyHistogram.RelativeError));
        Assert.InRange(stats.P95Ms!.Value, 950 * (1 - LatencyHistogram.RelativeError), 950 * (1 + LatencyHistogram.RelativeError));
        Assert.InRange(stats.P99Ms!.Value, 990 * (1 - LatencyHistogram.RelativeError), 990 * (1 + LatencyHistogram.RelativeError));
    }

    [Fact]
    public void SpansLandInTheBucketOfTheirEndTimeAndTheTimelineHasOnePointPerBucket()
    {
        var (store, clock) = Create();
        var t0 = clock.GetUtcNow();
        clock.Advance(TimeSpan.FromSeconds(35));
        store.Apply(Batch(
            Query(t0, TimeSpan.FromMilliseconds(1)),
            Query(t0.AddSeconds(9), TimeSpan.FromMilliseconds(3)),
            Query(t0.AddSeconds(10), TimeSpan.FromMilliseconds(5)),
            Query(t0.AddSeconds(31), TimeSpan.FromMilliseconds(7))));

        var timeline = store.Queries.Timeline(TimeSpan.FromSeconds(40));

        Assert.Equal([t0, t0.AddSeconds(10), t0.AddSeconds(20), t0.AddSeconds(30)], timeline.Select(p => p.Start));
        Assert.Equal([2L, 1, 0, 1], timeline.Select(p => p.Count));
        Assert.Equal([2.0, 5, 0, 7], timeline.Select(p => p.MeanMs));
        Assert.Equal([3.0, 5, 0, 7], timeline.Select(p => p.MaxMs));
    }

    [Fact]
    public void AWindowOnlyCountsItsOwnBucketsAndRecycledBucketsStartEmpty()
    {
        var (store, clock) = Create();
        store.Apply(Batch(Query(clock.GetUtcNow(), TimeSpan.FromMilliseconds(1))));
        clock.Advance(TimeSpan.FromMinutes(5));
        store.Apply(Batch(Query(clock.GetUtcNow(), TimeSpan.FromMilliseconds(9))));

        Assert.Equal(1, store.Queries.Summarize(TimeSpan.FromMinutes(1)).Count);
        Assert.Equal(2, store.Queries.Summarize(Hour).Count);

        // Exactly one retention later the first span's bucket (same ring slot) is reused: it must not carry over.
        clock.Advance(Hour - TimeSpan.FromMinutes(5));
        store.Apply(Batch(Query(clock.GetUtcNow(), TimeSpan.FromMilliseconds(4))));

        var stats = store.Queries.Summarize(Hour);
        Assert.Equal(2, stats.Count);
        Assert.Equal(6.5, stats.MeanMs, 9);
        Assert.Equal(9, stats.MaxMs, 9);
    }

    [Fact]
    public void SpansThatEndedBeforeTheRetentionAreCountedAsTooOldAndFutureOnesCountAsNow()
    {
        var (store, clock) = Create();
        var now = clock.GetUtcNow();

        store.Apply(Batch(
            Query(now - TimeSpan.FromHours(2), TimeSpan.FromMilliseconds(1)),
            Query(now + TimeSpan.FromMinutes(3), TimeSpan.FromMilliseconds(2))));

        var counts = store.Counters.Snapshot();
        Assert.Equal(1, counts.QuerySpansTooOld);
        Assert.Equal(1, counts.QuerySpansAggregated);
        var point = Assert.Single(store.Queries.Timeline(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, point.Count);
    }

    [Fact]
    public void ANewSeriesBeyondTheLimitReplacesTheLeastRecentlySeenAndExpiredSeriesAreSwept()
    {
        var (store, clock) = Create(o => o.MaxQuerySeries = 2);
        var now = clock.GetUtcNow();
        store.Apply(Batch(
            Query(now.AddSeconds(-2), TimeSpan.FromMilliseconds(1), operation: "a"),
            Query(now.AddSeconds(-1), TimeSpan.FromMilliseconds(1), operation: "b"),
            Query(now, TimeSpan.FromMilliseconds(1), operation: "c"),
            Query(now, TimeSpan.FromMilliseconds(1), operation: "c")));

        Assert.Equal(2, store.Queries.Count);
        Assert.Equal(["b", "c"], store.Queries.List(Hour).Select(s => s.Key.Operation).Order());
        Assert.Equal(2, store.Queries.List(Hour).Single(s => s.Key.Operation == "c").Stats.Count);
        Assert.Equal(1, store.Counters.Snapshot().QuerySeriesEvicted);

        // A sweep inside the retention keeps live series.
        clock.Advance(TimeSpan.FromMinutes(30));
        store.Sweep();
        Assert.Equal(2, store.Queries.Count);

        clock.Advance(TimeSpan.FromMinutes(31));
        store.Sweep();
        Assert.Equal(0, store.Queries.Count);
        store.Apply(Batch(Query(clock.GetUtcNow(), TimeSpan.FromMilliseconds(1), operation: "a")));

        Assert.Equal("a", Assert.Single(store.Queries.List(Hour)).Key.Operation);
        Assert.Equal(1, store.Counters.Snapshot().QuerySeriesEvicted);
    }

    [Fact]
    public void PlainPostgresSpansAreGroupedAsSqlByTheTableAndVerbOfTheirStatement()
    {
        var (store, clock) = Create();
        var now = clock.GetUtcNow();
        store.Apply(Batch(
            SqlSpan(now, TimeSpan.FromMilliseconds(2), "SELECT id, name FROM clients WHERE id = $1"),
            SqlSpan(now, TimeSpan.FromMilliseconds(4), "SELECT id, name FROM clients WHERE id = $1"),
            SqlSpan(now, TimeSpan.FromMilliseconds(8), "INSERT INTO clients (name) VALUES ($1)"),
            SqlSpan(now, TimeSpan.FromMilliseconds(1), "SELECT 1")));

        var series = store.Queries.List(Hour, new QueryFilter(QueryType: "SQL"));

        Assert.Equal(3, series.Count);
        Assert.Equal(2, series.Single(s => s.Key == new QueryKey("clients-api", "clients", "SELECT", "sql")).Stats.Count);
        Assert.Equal(1, series.Single(s => s.Key == new QueryKey("clients-api", "clients", "INSERT", "sql")).Stats.Count);
        Assert.Equal(1, series.Single(s => s.Key == new QueryKey("clients-api", QueryKey.Unknown, "SELECT", "sql")).Stats.Count);
    }

    [Fact]
    public void FiltersSelectSeriesIgnoringCaseAndSummarizeMergesThem()
    {
        var (store, clock) = Create();
        var now = clock.GetUtcNow();
        store.Apply(Batch(
            Query(now, TimeSpan.FromMilliseconds(10), queryType: "count", service: "clients-api"),
            Query(now, TimeSpan.FromMilliseconds(20), queryType: "count", service: "perf-api"),
            Query(now, TimeSpan.FromMilliseconds(90), queryType: "analytics", service: "perf-api")));

        var counts = store.Queries.Summarize(Hour, new QueryFilter(QueryType: "COUNT"));
        var perfApi = store.Queries.Summarize(Hour, new QueryFilter(Service: "Perf-Api"));

        Assert.Equal(2, counts.Count);
        Assert.Equal(15, counts.MeanMs, 9);
        Assert.Equal(2, perfApi.Count);
        Assert.Equal(90, perfApi.MaxMs, 9);
        Assert.Equal(0, store.Queries.Summarize(Hour, new QueryFilter(Table: "nope")).Count);
    }
}
