namespace NexusCore.PerfApi.Features.Analytics;

/// <param name="Window">The window asked for: <c>5m</c>, <c>15m</c> or <c>1h</c>.</param>
/// <param name="PointSeconds">Width of one time-series point: the store's bucket (10 s) for 5m, a latency roll-up (1 min) beyond.</param>
/// <param name="RateSeconds">What throughput is divided by: the window, or PerfApi's uptime when shorter.</param>
public sealed record Response(
    string Window,
    double WindowSeconds,
    double PointSeconds,
    double RateSeconds,
    DateTimeOffset GeneratedAt,
    IReadOnlyList<Series> Series);

/// <summary>One (service, table, operation, query type) over the window.</summary>
/// <param name="QueryType">count, find, search, analytics, write… or <c>sql</c> for plain database spans.</param>
/// <param name="P50Ms">Percentiles are within 3.125 % of the exact nearest-rank value (the store's histogram).</param>
/// <param name="CacheHitRatePercent">Null when no query of the series looked the cache up.</param>
public sealed record Series(
    string Service,
    string Table,
    string Operation,
    string QueryType,
    long Count,
    double ThroughputPerSecond,
    double MeanMs,
    double MaxMs,
    double? P50Ms,
    double? P95Ms,
    double? P99Ms,
    long CacheHits,
    long CacheMisses,
    double? CacheHitRatePercent,
    long Errors,
    long Rows,
    DateTimeOffset LastSeen,
    IReadOnlyList<Point> TimeSeries);

/// <summary>One point of a series' time series; <see cref="P95Ms"/> only where the point spans whole latency roll-ups.</summary>
public sealed record Point(DateTimeOffset Start, long Count, double MeanMs, double MaxMs, long Errors, double? P95Ms);
