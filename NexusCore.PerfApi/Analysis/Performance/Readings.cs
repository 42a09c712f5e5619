namespace NexusCore.PerfApi.Analysis.Performance;

/// <summary>Cache hits and misses of one query type (or of all of them) over a window.</summary>
public sealed record CacheLookups(string QueryType, long Hits, long Misses)
{
    public long Lookups => Saturating.Add(Hits, Misses);

    /// <summary>Hits per lookup in percent; null when nothing was looked up.</summary>
    public double? HitRatePercent => Lookups == 0 ? null : 100.0 * Hits / ((double)Hits + Misses);
}

/// <summary>One connection pool as its service last reported it (Npgsql's pool metrics).</summary>
/// <param name="Used">Connections handed out to commands right now.</param>
/// <param name="Idle">Open connections waiting in the pool.</param>
/// <param name="Max">The pool's maximum size; null when the service did not report it.</param>
/// <param name="PeakUsed">The most connections in use at once during the window asked for.</param>
public sealed record PoolReading(
    string Service, string Instance, string Pool, long Used, long Idle, long? Max, long PeakUsed, DateTimeOffset LastSeen)
{
    public long? Available => Max is { } max ? Math.Max(0, max - Used) : null;

    public double? UtilizationPercent => Max is > 0 ? 100.0 * Used / Max.Value : null;

    public double? PeakUtilizationPercent => Max is > 0 ? 100.0 * PeakUsed / Max.Value : null;
}

/// <summary>Every live pool added up: what the seed's health shows as "the" connection pool.</summary>
public sealed record PoolTotals(long Active, long Idle, long Max, long Available, double? UtilizationPercent, int Pools)
{
    public static PoolTotals Of(IReadOnlyList<PoolReading> pools)
    {
        var active = Saturating.Sum(pools.Select(p => p.Used));
        var max = Saturating.Sum(pools.Select(p => p.Max ?? 0));
        return new PoolTotals(
            active,
            Saturating.Sum(pools.Select(p => p.Idle)),
            max,
            Saturating.Sum(pools.Select(p => p.Available ?? 0)),
            max > 0 ? 100.0 * pools.Where(p => p.Max is > 0).Sum(p => (double)p.Used) / pools.Sum(p => (double)(p.Max ?? 0)) : null,
            pools.Count);
    }
}

/// <summary>One service instance's in-process cache as it last reported it.</summary>
public sealed record CacheMemoryReading(string Service, string Instance, long Entries, double SizeBytes, DateTimeOffset LastSeen)
{
    /// <summary>Megabytes of 2^20 bytes.</summary>
    public double SizeMb => SizeBytes / PerformanceReader.BytesPerMb;
}

/// <summary>
/// A setting in force as a service reports it (gauge <c>nexuscore.setting</c>): its name as the seed gives it
/// (<c>CACHE_TTL_FIND</c>), its options key (<c>Cache:FindTtlSeconds</c>), its value, and what it governs
/// (<see cref="QueryType"/> for a cache TTL, <see cref="Pool"/> for a pool size).
/// </summary>
public sealed record SettingReading(string Service, string Name, string Key, long Value, string? QueryType, string? Pool);
