namespace NexusCore.PerfApi.Features.Metrics;

/// <summary>Query, cache and pool figures now: over the last minute and since PerfApi started (at most its retention).</summary>
public sealed record Response(DateTimeOffset GeneratedAt, QueryMetrics Queries, CacheMetrics Cache, PoolMetrics ConnectionPool);

public sealed record QueryMetrics(QueryFigures LastMinute, QueryFigures SinceStart, IReadOnlyList<QueryTypeFigures> ByQueryType);

/// <param name="From">Where the period starts: a minute ago, or when PerfApi started (bounded by the retention).</param>
/// <param name="P95Ms">Within 2.2 % of the exact nearest-rank value (the histogram's bucket error); null when nothing ran.</param>
public sealed record QueryFigures(
    DateTimeOffset From, double Seconds, long Count, double PerSecond, double? MeanMs, double? P95Ms, double MaxMs, long Errors);

public sealed record QueryTypeFigures(string QueryType, QueryFigures LastMinute, QueryFigures SinceStart);

/// <param name="EntriesTotal">Entries in the in-process caches of every instance reporting, added up.</param>
/// <param name="SizeMbTotal">Their estimated size in MB (2^20 bytes).</param>
public sealed record CacheMetrics(
    CacheFigures LastMinute,
    CacheFigures SinceStart,
    IReadOnlyList<QueryTypeCacheFigures> ByQueryType,
    long EntriesTotal,
    double SizeMbTotal,
    IReadOnlyList<CacheInstance> Instances);

/// <param name="Hits">Reads served from the cache (<c>nexuscore.cache.hits</c> and <c>.stale</c>).</param>
/// <param name="Misses">Reads that queried Postgres (<c>nexuscore.cache.misses</c>).</param>
public sealed record CacheFigures(long Hits, long Misses, double? HitRatePercent);

public sealed record QueryTypeCacheFigures(string QueryType, CacheFigures LastMinute, CacheFigures SinceStart);

public sealed record CacheInstance(string Service, string Instance, long Entries, double SizeMb, DateTimeOffset LastSeen);

/// <summary>Every pool reported in the last minute, added up, and each pool.</summary>
public sealed record PoolMetrics(
    double? UtilizationPercent, long Active, long Idle, long Available, long Max, IReadOnlyList<Pool> Pools);

/// <param name="PeakUtilizationPercent">The most connections in use at once in the last minute, as a share of the maximum.</param>
public sealed record Pool(
    string Service,
    string Instance,
    string Name,
    long Active,
    long Idle,
    long? Available,
    long? Max,
    double? UtilizationPercent,
    long PeakActive,
    double? PeakUtilizationPercent,
    DateTimeOffset LastSeen);
