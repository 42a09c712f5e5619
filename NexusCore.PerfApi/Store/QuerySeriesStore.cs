using System.Collections.Concurrent;
using NexusCore.PerfApi.Analysis.Indexes;
using NexusCore.PerfApi.Ingest;
using NexusCore.PerfApi.Sql;

namespace NexusCore.PerfApi.Store;

/// <summary>What a query series is kept per: the service that ran it, the table, the operation and the query type.</summary>
public readonly record struct QueryKey(string Service, string Table, string Operation, string QueryType)
{
    /// <summary>Stands for a table or operation a span did not name and its SQL did not reveal.</summary>
    public const string Unknown = "unknown";

    /// <summary>The query type of plain database client spans (no <c>nexuscore.query.type</c>).</summary>
    public const string SqlQueryType = "sql";
}

/// <summary>Selects query series; a null member matches everything, names compare ignoring case.</summary>
public sealed record QueryFilter(string? Service = null, string? Table = null, string? Operation = null, string? QueryType = null)
{
    public static readonly QueryFilter All = new();

    /// <summary>Logical queries only: plain database spans (query type <c>sql</c>) would count each query twice.</summary>
    public static readonly QueryFilter Logical = new() { LogicalOnly = true };

    /// <summary>Leaves out the series of plain database client spans (<see cref="QueryKey.SqlQueryType"/>).</summary>
    public bool LogicalOnly { get; init; }

    public bool Matches(in QueryKey key) =>
        Is(Service, key.Service) && Is(Table, key.Table) && Is(Operation, key.Operation) && Is(QueryType, key.QueryType)
        && !(LogicalOnly && string.Equals(key.QueryType, QueryKey.SqlQueryType, StringComparison.OrdinalIgnoreCase));

    private static bool Is(string? wanted, string actual) => wanted is null || string.Equals(wanted, actual, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Query statistics over a window; percentiles are within <see cref="LatencyHistogram.RelativeError"/>.</summary>
public sealed record QueryStats(
    long Count,
    double MeanMs,
    double MaxMs,
    double? P50Ms,
    double? P95Ms,
    double? P99Ms,
    long CacheHits,
    long CacheMisses,
    double? CacheHitRatio,
    long Rows,
    long Errors)
{
    internal static QueryStats From(in QueryBucket totals, HistogramAccumulator histogram)
    {
        var lookups = totals.CacheHits + totals.CacheMisses;
        return new QueryStats(
            totals.Count,
            totals.Count == 0 ? 0 : Ms(totals.DurationNanos) / totals.Count,
            Ms(totals.MaxNanos),
            Ms(histogram.ValueAtQuantileNanos(0.50)),
            Ms(histogram.ValueAtQuantileNanos(0.95)),
            Ms(histogram.ValueAtQuantileNanos(0.99)),
            totals.CacheHits,
            totals.CacheMisses,
            lookups == 0 ? null : (double)totals.CacheHits / lookups,
            totals.Rows,
            totals.Errors);
    }

    internal static double Ms(double nanos) => nanos / 1_000_000d;

    internal static double? Ms(double? nanos) => nanos / 1_000_000d;
}

public sealed record QuerySeriesStats(QueryKey Key, QueryStats Stats, DateTimeOffset LastSeen);

/// <summary>One time bucket of a query timeline (zeros where nothing ran).</summary>
public sealed record QueryPoint(
    DateTimeOffset Start, long Count, double MeanMs, double MaxMs, long CacheHits, long CacheMisses, long Rows, long Errors);

/// <summary>One latency roll-up of a window: its start, how many queries it holds and the asked quantile (null when empty).</summary>
public sealed record QueryRollupQuantile(DateTimeOffset Start, long Count, double? ValueMs);

/// <summary>
/// Time-bucketed query statistics per <see cref="QueryKey"/>: a ring of <c>Retention / BucketWidth</c> buckets of
/// counters and a ring of <c>Retention / HistogramWidth</c> latency histograms per series, at most
/// <c>MaxQuerySeries</c> series. Writers lock only the series they touch.
/// </summary>
public sealed class QuerySeriesStore
{
    private readonly ConcurrentDictionary<QueryKey, QuerySeries> _series = new();
    private readonly TelemetryCounters _counters;
    private readonly TimeProvider _time;
    private readonly ServiceQuota<QueryKey> _quota;
    private int _count;

    internal QuerySeriesStore(BucketClock buckets, BucketClock histograms, int maxSeries, int maxPerService, TimeProvider time, TelemetryCounters counters)
    {
        Buckets = buckets;
        Histograms = histograms;
        _quota = new ServiceQuota<QueryKey>(maxSeries, maxPerService, key => _series.TryGetValue(key, out var series) ? series.LastSeenNanos : long.MinValue);
        _time = time;
        _counters = counters;
    }

    internal BucketClock Buckets { get; }

    internal BucketClock Histograms { get; }

    public int Count => Volatile.Read(ref _count);

    /// <summary>Every series with something in the window, busiest first.</summary>
    public IReadOnlyList<QuerySeriesStats> List(TimeSpan window, QueryFilter? filter = null)
    {
        var (from, to, histogramFrom, histogramTo) = Window(window);
        var result = new List<QuerySeriesStats>();
        foreach (var series in _series.Values)
        {
            if (!(filter ?? QueryFilter.All).Matches(series.Key))
            {
                continue;
            }

            var totals = default(QueryBucket);
            var histogram = new HistogramAccumulator();
            series.Accumulate(from, to, histogramFrom, histogramTo, ref totals, histogram, timeline: null);
            if (totals.Count > 0)
            {
                result.Add(new QuerySeriesStats(series.Key, QueryStats.From(totals, histogram), UnixTime.FromNanos(series.LastSeenNanos)));
            }
        }

        result.Sort((a, b) => b.Stats.Count.CompareTo(a.Stats.Count));
        return result;
    }

    /// <summary>All matching series merged into one set of statistics over the window.</summary>
    public QueryStats Summarize(TimeSpan window, QueryFilter? filter = null)
    {
        var (from, to, histogramFrom, histogramTo) = Window(window);
        var totals = default(QueryBucket);
        var histogram = new HistogramAccumulator();
        foreach (var series in _series.Values)
        {
            if ((filter ?? QueryFilter.All).Matches(series.Key))
            {
                series.Accumulate(from, to, histogramFrom, histogramTo, ref totals, histogram, timeline: null);
            }
        }

        return QueryStats.From(totals, histogram);
    }

    /// <summary>All matching series merged per bucket, oldest first, one point per bucket of the window.</summary>
    public IReadOnlyList<QueryPoint> Timeline(TimeSpan window, QueryFilter? filter = null)
    {
        var (from, to, _, _) = Window(window);
        var timeline = new QueryBucket[to - from + 1];
        var ignored = default(QueryBucket);
        foreach (var series in _series.Values)
        {
            if ((filter ?? QueryFilter.All).Matches(series.Key))
            {
                series.Accumulate(from, to, 0, -1, ref ignored, histogram: null, timeline);
            }
        }

        var points = new QueryPoint[timeline.Length];
        for (var i = 0; i < timeline.Length; i++)
        {
            ref readonly var b = ref timeline[i];
            points[i] = new QueryPoint(
                Buckets.StartOf(from + i),
                b.Count,
                b.Count == 0 ? 0 : QueryStats.Ms(b.DurationNanos) / b.Count,
                QueryStats.Ms(b.MaxNanos),
                b.CacheHits,
                b.CacheMisses,
                b.Rows,
                b.Errors);
        }

        return points;
    }

    /// <summary>
    /// The <paramref name="quantile"/> of each latency roll-up (<c>HistogramWidth</c>) of the window, matching series
    /// merged, oldest first; null where nothing ran. Within <see cref="LatencyHistogram.RelativeError"/>.
    /// </summary>
    public IReadOnlyList<QueryRollupQuantile> RollupQuantiles(TimeSpan window, double quantile, QueryFilter? filter = null)
    {
        var (_, _, from, to) = Window(window);
        var matching = _series.Values.Where(series => (filter ?? QueryFilter.All).Matches(series.Key)).ToList();
        var points = new QueryRollupQuantile[to - from + 1];
        var histogram = new HistogramAccumulator();
        for (var index = from; index <= to; index++)
        {
            histogram.Clear();
            foreach (var series in matching)
            {
                series.AddRollupTo(index, histogram);
            }

            points[index - from] = new QueryRollupQuantile(
                Histograms.StartOf(index), histogram.Count, QueryStats.Ms(histogram.ValueAtQuantileNanos(quantile)));
        }

        return points;
    }

    /// <summary>The series for a key, created when new, in place of another when the service's quota or the store is full.</summary>
    internal QuerySeries? GetOrAdd(in QueryKey key)
    {
        if (_series.TryGetValue(key, out var series))
        {
            return series;
        }

        if (_quota.Admit(key.Service, key, out var victim) && _series.TryRemove(victim, out _))
        {
            Interlocked.Decrement(ref _count);
            _counters.QuerySeriesEvicted();
        }

        Interlocked.Increment(ref _count);

        var created = new QuerySeries(key, Buckets.Slots, Histograms.Slots);
        if (_series.TryAdd(key, created))
        {
            return created;
        }

        Interlocked.Decrement(ref _count);
        return _series[key];
    }

    /// <summary>Forgets series whose every bucket has expired, making room for new ones.</summary>
    internal int Sweep(long oldestBucket)
    {
        var removed = 0;
        foreach (var (key, series) in _series)
        {
            if (series.LastIndex < oldestBucket && _series.TryRemove(new KeyValuePair<QueryKey, QuerySeries>(key, series)))
            {
                _quota.Forget(key.Service, key);
                Interlocked.Decrement(ref _count);
                removed++;
            }
        }

        return removed;
    }

    private (long From, long To, long HistogramFrom, long HistogramTo) Window(TimeSpan window)
    {
        var now = UnixTime.NanosOf(_time.GetUtcNow());
        var to = Buckets.IndexOf(now);
        var histogramTo = Histograms.IndexOf(now);
        return (Buckets.FirstIndex(to, window), to, Histograms.FirstIndex(histogramTo, window), histogramTo);
    }
}

/// <summary>The counters of one bucket; also used to add buckets up (then <see cref="Index"/> is the latest bucket seen).</summary>
internal struct QueryBucket
{
    public long Index;
    public long Count;
    public long DurationNanos;
    public long MaxNanos;
    public long CacheHits;
    public long CacheMisses;
    public long Rows;
    public long Errors;

    public void Add(in QueryBucket other)
    {
        Index = Math.Max(Index, other.Index);
        Count += other.Count;
        DurationNanos += other.DurationNanos;
        MaxNanos = Math.Max(MaxNanos, other.MaxNanos);
        CacheHits += other.CacheHits;
        CacheMisses += other.CacheMisses;
        Rows += other.Rows;
        Errors += other.Errors;
    }
}

internal sealed class QuerySeries(QueryKey key, int bucketSlots, int histogramSlots)
{
    private readonly Lock _gate = new();
    private readonly QueryBucket[] _buckets = new QueryBucket[bucketSlots];
    private readonly HistogramSlot[] _histograms = new HistogramSlot[histogramSlots];
    private long _lastIndex;
    private long _lastSeenNanos;

    public QueryKey Key { get; } = key;

    public long LastIndex => Volatile.Read(ref _lastIndex);

    public long LastSeenNanos => Volatile.Read(ref _lastSeenNanos);

    /// <returns>false when the bucket has already been recycled for a newer one (the span is too old).</returns>
    public bool Record(in QuerySpan span, long endNanos, long bucketIndex, long histogramIndex)
    {
        var duration = span.DurationNanos;
        lock (_gate)
        {
            ref var bucket = ref _buckets[bucketIndex % _buckets.Length];
            if (bucket.Index != bucketIndex)
            {
                if (bucket.Index > bucketIndex)
                {
                    return false;
                }

                bucket = new QueryBucket { Index = bucketIndex };
            }

            bucket.Count++;
            bucket.DurationNanos += duration;
            bucket.MaxNanos = Math.Max(bucket.MaxNanos, duration);
            if (span.CacheHit is { } hit)
            {
                if (hit)
                {
                    bucket.CacheHits++;
                }
                else
                {
                    bucket.CacheMisses++;
                }
            }

            if (span.Rows is > 0 and var rows)
            {
                bucket.Rows += rows;
            }

            if (span.IsError)
            {
                bucket.Errors++;
            }

            ref var slot = ref _histograms[histogramIndex % _histograms.Length];
            if (slot.Index < histogramIndex)
            {
                slot.Index = histogramIndex;
                slot.Histogram?.Clear();
            }

            if (slot.Index == histogramIndex)
            {
                (slot.Histogram ??= new LatencyHistogram()).Record(duration);
            }

            if (bucketIndex > _lastIndex)
            {
                Volatile.Write(ref _lastIndex, bucketIndex);
            }

            if (endNanos > _lastSeenNanos)
            {
                Volatile.Write(ref _lastSeenNanos, endNanos);
            }
        }

        return true;
    }

    public void Accumulate(
        long from, long to, long histogramFrom, long histogramTo, ref QueryBucket totals, HistogramAccumulator? histogram, QueryBucket[]? timeline)
    {
        lock (_gate)
        {
            foreach (ref readonly var bucket in _buckets.AsSpan())
            {
                if (bucket.Index >= from && bucket.Index <= to && bucket.Count > 0)
                {
                    totals.Add(bucket);
                    if (timeline is not null)
                    {
                        timeline[bucket.Index - from].Add(bucket);
                    }
                }
            }

            if (histogram is null)
            {
                return;
            }

            foreach (ref readonly var slot in _histograms.AsSpan())
            {
                if (slot.Index >= histogramFrom && slot.Index <= histogramTo)
                {
                    slot.Histogram?.AddTo(histogram);
                }
            }
        }
    }

    /// <summary>Adds roll-up <paramref name="index"/>'s histogram, if it is still held, to <paramref name="histogram"/>.</summary>
    public void AddRollupTo(long index, HistogramAccumulator histogram)
    {
        lock (_gate)
        {
            ref readonly var slot = ref _histograms[index % _histograms.Length];
            if (slot.Index == index)
            {
                slot.Histogram?.AddTo(histogram);
            }
        }
    }

    private struct HistogramSlot
    {
        public long Index;
        public LatencyHistogram? Histogram;
    }
}
