using NexusCore.PerfApi.Store;

namespace NexusCore.PerfApi.Analysis.Performance;

/// <summary>What an analytics series is: the service that ran the queries, the table, the operation and the query type (cache outcomes merged).</summary>
public readonly record struct QuerySeriesKey(string Service, string Table, string Operation, string QueryType)
{
    public static QuerySeriesKey Of(RollupKey key) => new(key.Service, key.Table, key.Operation, key.QueryType);
}

/// <summary>
/// Query figures over a window, from merged <c>nexuscore.query.duration</c> histograms: percentiles within the
/// histogram's <see cref="ExponentialHistogram.RelativeError"/> of the exact nearest-rank value (2.2 % at scale 4),
/// the mean exact (sum / count), the max exact when the sender reports deltas (else within one bucket).
/// </summary>
public sealed record QueryStats(long Count, double MeanMs, double MaxMs, double? P50Ms, double? P95Ms, double? P99Ms, long Errors)
{
    public static readonly QueryStats None = new(0, 0, 0, null, null, null, 0);

    public static QueryStats Of(ExponentialHistogram durations, long errors) => durations.Count == 0
        ? None with { Errors = errors }
        : new QueryStats(
            durations.Count,
            Ms(durations.Sum) / durations.Count,
            double.IsFinite(durations.Max) ? Ms(durations.Max) : Ms(durations.Quantile(1) ?? 0),
            Ms(durations.Quantile(0.50)),
            Ms(durations.Quantile(0.95)),
            Ms(durations.Quantile(0.99)),
            errors);

    private static double Ms(double seconds) => Saturating.Amount(seconds * 1000);

    private static double? Ms(double? seconds) => seconds is { } value ? Ms(value) : null;
}

/// <summary>A trace an exemplar points at: open it in the Aspire dashboard by its id.</summary>
public sealed record ExemplarReading(string TraceId, string? SpanId, double DurationMs, DateTimeOffset At)
{
    public static ExemplarReading Of(QueryExemplar exemplar) =>
        new(exemplar.TraceId, exemplar.SpanId, Saturating.Amount(exemplar.DurationSeconds * 1000), exemplar.At);
}

/// <summary>One roll-up (minute) of a series: zeros where nothing ran.</summary>
public sealed record QueryPoint(DateTimeOffset Start, QueryStats Stats);

/// <summary>One analytics series over a window.</summary>
/// <param name="CacheHits">Queries of the series that the cache answered (<c>nexuscore.cache.hit</c> = true, stale reads included).</param>
/// <param name="LastSeen">The start of the latest roll-up holding a query of the series.</param>
/// <param name="Exemplars">The slowest exemplars of the window, slowest first.</param>
public sealed record QuerySeriesReading(
    QuerySeriesKey Key,
    QueryStats Stats,
    long CacheHits,
    long CacheMisses,
    DateTimeOffset LastSeen,
    IReadOnlyList<ExemplarReading> Exemplars,
    IReadOnlyList<QueryPoint> Points)
{
    public double? CacheHitRatio => CacheHits + CacheMisses == 0 ? null : (double)CacheHits / (CacheHits + CacheMisses);
}

/// <summary>One point of all queries merged (<see cref="PerformanceReader.Timeline"/>): its figures and cache outcomes.</summary>
public sealed record TimelinePoint(DateTimeOffset Start, TimeSpan Width, QueryStats Stats, long CacheHits, long CacheMisses)
{
    public double? CacheHitRatePercent => CacheHits + CacheMisses == 0 ? null : 100.0 * CacheHits / ((double)CacheHits + CacheMisses);
}
