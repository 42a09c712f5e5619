using NexusCore.PerfApi.Analysis.Performance;
using NexusCore.PerfApi.Store;
using NexusCore.PerfApi.Tests.Performance;
using NexusCore.PerfApi.Tests.Telemetry;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Metrics.V1;
using static NexusCore.PerfApi.Tests.Features.Otlp.OtlpPayloads;

namespace NexusCore.PerfApi.Tests.Store;

/// <summary>
/// Query figures from <c>nexuscore.query.duration</c> against known inputs: OTLP payloads built as OpenTelemetry
/// builds them, through the receiver's decoder into the store, read by the performance reader.
/// </summary>
[NoStack]
public sealed class QueryRollupStoreTests
{
    private static readonly TimeSpan FiveMinutes = TimeSpan.FromMinutes(5);

    private static readonly KeyValue[] Find =
        [Attribute("nexuscore.query.type", "find"), Attribute("db.collection.name", "clients"), Attribute("db.operation.name", "SELECT")];

    [Fact]
    public void TwoReplicasDeltaPointsAddUpAndTheirPercentilesAreWithinTheBucketErrorOfTheExactNearestRank()
    {
        var telemetry = new SyntheticTelemetry();
        var (first, second) = (LogNormalSeconds(1, 3000, 0.004, 1.2), LogNormalSeconds(2, 2000, 0.02, 0.8));
        Send(telemetry, "instance-1", AggregationTemporality.Delta, telemetry.Now.AddSeconds(-1), telemetry.Now, 4, first, Find);
        Send(telemetry, "instance-2", AggregationTemporality.Delta, telemetry.Now.AddSeconds(-1), telemetry.Now, 4, second, Find);

        var all = first.Concat(second).Select(s => s * 1000).Order().ToList();
        var series = Assert.Single(telemetry.Reader.QuerySeries(FiveMinutes));
        Assert.Equal(new QuerySeriesKey("clients-api", "clients", "SELECT", "find"), series.Key);
        Assert.Equal(5000, series.Stats.Count);
        Assert.Equal(all.Average(), series.Stats.MeanMs, 6);
        Assert.Equal(all[^1], series.Stats.MaxMs, 9);
        AssertWithin(4, NearestRank(all, 0.50), series.Stats.P50Ms);
        AssertWithin(4, NearestRank(all, 0.95), series.Stats.P95Ms);
        AssertWithin(4, NearestRank(all, 0.99), series.Stats.P99Ms);
    }

    [Fact]
    public void CumulativePointsBecomeDeltasPerInstanceRetriesAreIgnoredAndAResetCountsWhole()
    {
        var telemetry = new SyntheticTelemetry();
        var start = telemetry.CountersStart;
        var a = new List<double> { 0.001, 0.002, 0.004 };
        var b = new List<double> { 0.010 };

        // Each replica's first point: they started after the store, so their values are new.
        Send(telemetry, "instance-1", AggregationTemporality.Cumulative, start, telemetry.Now, 5, a, Find);
        Send(telemetry, "instance-2", AggregationTemporality.Cumulative, start, telemetry.Now, 5, b, Find);
        telemetry.Clock.Advance(TimeSpan.FromSeconds(5));

        // instance-1 adds 0.008 (a new max: exact), then its retry arrives again, then instance-2 adds 0.003.
        a.Add(0.008);
        Send(telemetry, "instance-1", AggregationTemporality.Cumulative, start, telemetry.Now, 5, a, Find);
        Send(telemetry, "instance-1", AggregationTemporality.Cumulative, start, telemetry.Now, 5, a, Find);
        b.Add(0.003);
        Send(telemetry, "instance-2", AggregationTemporality.Cumulative, start, telemetry.Now, 5, b, Find);
        telemetry.Clock.Advance(TimeSpan.FromSeconds(5));

        var stats = telemetry.Reader.Queries(FiveMinutes);
        Assert.Equal(6, stats.Count);
        Assert.Equal(new[] { 1, 2, 4, 8, 10, 3 }.Average(), stats.MeanMs, 9);
        Assert.Equal(10, stats.MaxMs, 9);

        // instance-2 restarts: a new start time, fewer values; the point counts whole.
        Send(telemetry, "instance-2", AggregationTemporality.Cumulative, telemetry.Now.AddSeconds(-2), telemetry.Now, 5, [0.005], Find);
        var afterReset = telemetry.Reader.Queries(FiveMinutes);
        Assert.Equal(7, afterReset.Count);
        Assert.Equal(new[] { 1, 2, 4, 8, 10, 3, 5 }.Average(), afterReset.MeanMs, 9);

        // A point whose counts went down without a new start time is a reset too.
        Send(telemetry, "instance-1", AggregationTemporality.Cumulative, start, telemetry.Now, 5, [0.002], Find);
        Assert.Equal(8, telemetry.Reader.Queries(FiveMinutes).Count);
    }

    [Fact]
    public void ACumulativeStreamThatStartedBeforeTheStoreIsABaselineAtFirstSight()
    {
        var telemetry = new SyntheticTelemetry();
        var before = StoreFixtures.Start.AddMinutes(-5);
        Send(telemetry, "instance-1", AggregationTemporality.Cumulative, before, telemetry.Now, 5, [0.001, 0.002], Find);
        Assert.Equal(0, telemetry.Reader.Queries(FiveMinutes).Count);

        telemetry.Clock.Advance(TimeSpan.FromSeconds(1));
        Send(telemetry, "instance-1", AggregationTemporality.Cumulative, before, telemetry.Now, 5, [0.001, 0.002, 0.030], Find);
        var stats = telemetry.Reader.Queries(FiveMinutes);
        Assert.Equal(1, stats.Count);
        Assert.Equal(30.0, stats.MeanMs, 9);
        Assert.Equal(30.0, stats.MaxMs, 9);
    }

    [Fact]
    public void ACumulativeMaxThatDidNotMoveIsTheUpperBoundOfTheDeltasHighestBucketWithinTheCumulativeMax()
    {
        var telemetry = new SyntheticTelemetry();
        var start = telemetry.CountersStart;
        Send(telemetry, "instance-1", AggregationTemporality.Cumulative, start, telemetry.Now, 4, [0.100], Find);
        telemetry.Clock.Advance(TimeSpan.FromMinutes(1));
        Send(telemetry, "instance-1", AggregationTemporality.Cumulative, start, telemetry.Now, 4, [0.100, 0.010], Find);

        var minute = telemetry.Reader.Queries(TimeSpan.FromMinutes(1));
        Assert.Equal(1, minute.Count);
        Assert.InRange(minute.MaxMs, 10, 10 * Math.Pow(2, 1.0 / 16));
        Assert.InRange(minute.P99Ms!.Value, 10 / Math.Pow(2, 1.0 / 32), 10 * Math.Pow(2, 1.0 / 32));
    }

    [Fact]
    public void PointsWithErrorTypeCountAsErrorsAndCacheOutcomesSplitHitsFromMisses()
    {
        var telemetry = new SyntheticTelemetry();
        telemetry.Queries("search", [5, 6, 7, 8, 9, 50, 60], cacheHits: 3, cacheMisses: 2, errors: 1);

        var series = Assert.Single(telemetry.Reader.QuerySeries(FiveMinutes));
        Assert.Equal((7L, 3L, 2L, 1L), (series.Stats.Count, series.CacheHits, series.CacheMisses, series.Stats.Errors));
        Assert.Equal(0.6, series.CacheHitRatio!.Value, 9);
        var keys = telemetry.Store.Rollups.Rollups(telemetry.Now.AddMinutes(-1), telemetry.Now.AddMinutes(1)).Select(r => r.Key.CacheHit).Order().ToList();
        Assert.Equal([null, false, true], keys);
    }

    [Fact]
    public void ExemplarsCarryTheSlowestTracesOfTheWindowAndACumulativePointRepeatsNone()
    {
        var telemetry = new SyntheticTelemetry();
        var start = telemetry.CountersStart;
        var point = ExponentialPoint(start, telemetry.Now, 5, [0.001, 0.2, 0.05], Find);
        point.Exemplars.Add(Exemplar(0.2, telemetry.Now.AddMilliseconds(-10), "4bf92f3577b34da6a3ce929d0e0e4736"));
        point.Exemplars.Add(Exemplar(0.05, telemetry.Now.AddMilliseconds(-5), "5bf92f3577b34da6a3ce929d0e0e4736"));
        point.Exemplars.Add(Exemplar(0.001, telemetry.Now.AddMilliseconds(-1), "00000000000000000000000000000000"));
        telemetry.Metrics("clients-api", "instance-1", ExponentialHistogram(WellKnownMetrics.QueryDuration, "s", AggregationTemporality.Cumulative, point));

        var series = Assert.Single(telemetry.Reader.QuerySeries(FiveMinutes));
        Assert.Equal(["4bf92f3577b34da6a3ce929d0e0e4736", "5bf92f3577b34da6a3ce929d0e0e4736"], series.Exemplars.Select(e => e.TraceId));
        Assert.Equal((200.0, "00f067aa0ba902b7"), (series.Exemplars[0].DurationMs, series.Exemplars[0].SpanId));

        // The next cumulative export repeats the same exemplars (nothing new) and adds one newer trace.
        telemetry.Clock.Advance(TimeSpan.FromMinutes(2));
        var next = ExponentialPoint(start, telemetry.Now, 5, [0.001, 0.2, 0.05, 0.003], Find);
        next.Exemplars.Add(Exemplar(0.2, StoreFixtures.Start.AddMinutes(30).AddMilliseconds(-10), "4bf92f3577b34da6a3ce929d0e0e4736"));
        next.Exemplars.Add(Exemplar(0.003, telemetry.Now.AddMilliseconds(-1), "6bf92f3577b34da6a3ce929d0e0e4736"));
        telemetry.Metrics("clients-api", "instance-1", ExponentialHistogram(WellKnownMetrics.QueryDuration, "s", AggregationTemporality.Cumulative, next));

        var lastMinute = Assert.Single(telemetry.Reader.QuerySeries(TimeSpan.FromMinutes(1)));
        Assert.Equal(["6bf92f3577b34da6a3ce929d0e0e4736"], lastMinute.Exemplars.Select(e => e.TraceId));
    }

    [Fact]
    public void RollupsAreCopiesPerKeyAndMinuteThatMergeBackToTheSameFigures()
    {
        var telemetry = new SyntheticTelemetry();
        telemetry.Queries("find", [1, 2, 3]);
        telemetry.Clock.Advance(TimeSpan.FromMinutes(1));
        telemetry.Queries("find", [40]);
        telemetry.Queries("count", [7], errors: 1);

        var rollups = telemetry.Store.Rollups.Rollups(telemetry.Now.AddMinutes(-1), telemetry.Now.AddMinutes(1));

        Assert.Equal(3, rollups.Count);
        Assert.All(rollups, r => Assert.Equal(0, r.Minute.Ticks % TimeSpan.TicksPerMinute));
        var find = rollups.Where(r => r.Key.QueryType == "find").OrderBy(r => r.Minute).ToList();
        Assert.Equal([3L, 1L], find.Select(r => r.Durations.Count));
        Assert.Equal(1, rollups.Single(r => r.Key.QueryType == "count").Errors);

        // A copy: changing it does not change the store.
        find[0].Durations.Record(100);
        Assert.Equal(4, telemetry.Reader.Queries(FiveMinutes, "find").Count);
    }

    [Fact]
    public void TheReaderTakesRollupsFromAnySourceAndMergesTheSameMinuteFromTwo()
    {
        var telemetry = new SyntheticTelemetry();
        telemetry.Queries("find", [10, 20]);
        var persisted = new NexusCore.PerfApi.Store.ExponentialHistogram();
        persisted.Record(0.030);
        var minute = telemetry.Store.Rollups.WindowStart(TimeSpan.FromMinutes(1));
        var key = new RollupKey("clients-api", "clients", "SELECT", "find", null);
        var history = new FixedRollups([new MinuteRollup(minute, key, persisted, 1)], telemetry.Store.Rollups);
        var reader = new PerformanceReader(telemetry.Store, telemetry.Clock, Microsoft.Extensions.Options.Options.Create(new TelemetryStoreOptions()), history);

        var stats = reader.Queries(FiveMinutes);

        Assert.Equal((3L, 20.0, 30.0, 1L), (stats.Count, stats.MeanMs, stats.MaxMs, stats.Errors));
    }

    [Fact]
    public void AKeyBeyondMaxQuerySeriesReplacesTheLeastRecentlySeenAndIsCounted()
    {
        var telemetry = new SyntheticTelemetry(options => (options.MaxQuerySeries, options.MaxQuerySeriesPerService) = (2, 2));
        telemetry.Queries("find", [1]);
        telemetry.Queries("search", [1]);
        telemetry.Queries("find", [1]);
        telemetry.Queries("count", [1]);

        Assert.Equal(["count", "find"], telemetry.Reader.QueryTypes(FiveMinutes));
        Assert.Equal(1, telemetry.Store.Counters.Snapshot().QuerySeriesEvicted);
    }

    [Fact]
    public void MillisecondsAreConvertedToSecondsWithinABucket()
    {
        var telemetry = new SyntheticTelemetry();
        Send(telemetry, "instance-1", AggregationTemporality.Delta, telemetry.Now.AddSeconds(-1), telemetry.Now, 5, [3, 12, 250], Find, unit: "ms");

        var stats = telemetry.Reader.Queries(FiveMinutes);

        Assert.Equal(3, stats.Count);
        Assert.Equal(265.0 / 3, stats.MeanMs, 9);
        Assert.Equal(250.0, stats.MaxMs, 9);
        Assert.InRange(stats.P50Ms!.Value, 12 / Math.Pow(2, 1.0 / 32), 12 * Math.Pow(2, 1.0 / 32));
    }

    private static void Send(
        SyntheticTelemetry telemetry, string instance, AggregationTemporality temporality, DateTimeOffset start, DateTimeOffset time, int scale,
        IEnumerable<double> values, KeyValue[] attributes, string unit = "s") =>
        telemetry.Metrics("clients-api", instance,
            ExponentialHistogram(WellKnownMetrics.QueryDuration, unit, temporality, ExponentialPoint(start, time, scale, values, attributes)));

    private static List<double> LogNormalSeconds(int seed, int n, double median, double sigma)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(_ =>
        {
            var z = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            return median * Math.Exp(sigma * z);
        }).ToList();
    }

    private static double NearestRank(IReadOnlyList<double> sorted, double quantile) =>
        sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Count), 1, sorted.Count) - 1];

    /// <summary>Within sqrt(base) − 1 of the exact value at <paramref name="scale"/> (2.2 % at scale 4).</summary>
    private static void AssertWithin(int scale, double exact, double? reported)
    {
        var error = Math.Pow(2, Math.Pow(2, -scale) / 2) - 1;
        Assert.InRange(reported!.Value, exact / (1 + error), exact * (1 + error));
    }

    private sealed class FixedRollups(IReadOnlyList<MinuteRollup> persisted, IQueryRollupReader memory) : IQueryRollupReader
    {
        public IReadOnlyList<MinuteRollup> Read(DateTimeOffset from, DateTimeOffset to) =>
            [.. persisted.Where(r => r.Minute >= from && r.Minute < to), .. memory.Read(from, to)];
    }
}
