using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Store;

namespace NexusCore.PerfApi.Analysis.Performance;

/// <summary>
/// The figures the performance endpoints, alerts and recommendations share, read from the
/// <see cref="TelemetryStore"/>: logical query totals, cache hits and misses per query type, connection pools
/// and cache memory. Stateless; every call reads the store as it is now. Counts and levels read from metrics
/// are <see cref="Saturating"/>: never negative, never past their type's range, whatever a sender reported.
/// </summary>
public sealed class PerformanceReader(TelemetryStore store, TimeProvider time, IOptions<TelemetryStoreOptions> options)
{
    public const double BytesPerMb = 1024 * 1024;

    /// <summary>
    /// A service's gauge older than this is taken to be gone (a stopped replica, a disposed pool): exporters
    /// report every few seconds, so a minute of silence is not a pause.
    /// </summary>
    public static readonly TimeSpan Freshness = TimeSpan.FromMinutes(1);

    public const string QueryTypeAttribute = "query.type";

    public TelemetryStore Store => store;

    public DateTimeOffset Now => time.GetUtcNow();

    /// <summary>How far "since start" reaches: since PerfApi started, at most the store's retention.</summary>
    public TimeSpan SinceStart
    {
        get
        {
            var elapsed = Now - store.StartedAt;
            return elapsed < options.Value.Retention ? elapsed : options.Value.Retention;
        }
    }

    /// <summary>
    /// The seconds a rate over <paramref name="window"/> is divided by: the window, or less when PerfApi has not
    /// been up that long (at least one second).
    /// </summary>
    public double RateSeconds(TimeSpan window) => Math.Max(1, Math.Min(window.TotalSeconds, (Now - store.StartedAt).TotalSeconds));

    /// <summary>Logical queries (those with <c>nexuscore.query.type</c>) merged over the window.</summary>
    public QueryStats Queries(TimeSpan window, string? queryType = null) =>
        store.Queries.Summarize(window, QueryFilter.Logical with { QueryType = queryType });

    /// <summary>
    /// Cache hits and misses per query type, from logical query spans; a query type whose spans carried no
    /// cache outcome (monitoring off, or a service that only exports metrics) is read from the cache counters.
    /// </summary>
    public IReadOnlyList<CacheLookups> CacheLookups(TimeSpan window)
    {
        var byType = new Dictionary<string, CacheLookups>(StringComparer.OrdinalIgnoreCase);
        foreach (var series in store.Queries.List(window, QueryFilter.Logical))
        {
            var stats = series.Stats;
            if (stats.CacheHits + stats.CacheMisses == 0)
            {
                continue;
            }

            var type = series.Key.QueryType;
            byType[type] = byType.TryGetValue(type, out var seen)
                ? seen with { Hits = Saturating.Add(seen.Hits, stats.CacheHits), Misses = Saturating.Add(seen.Misses, stats.CacheMisses) }
                : new CacheLookups(type, stats.CacheHits, stats.CacheMisses, CacheCountSource.Spans);
        }

        foreach (var type in CounterQueryTypes())
        {
            if (byType.ContainsKey(type))
            {
                continue;
            }

            var filter = new MetricFilter(Attributes: new Dictionary<string, string> { [QueryTypeAttribute] = type });
            var hits = Saturating.Count(store.Metrics.Increase(WellKnownMetrics.CacheHits, window, filter));
            var misses = Saturating.Count(store.Metrics.Increase(WellKnownMetrics.CacheMisses, window, filter));
            if (hits > 0 || misses > 0)
            {
                byType[type] = new CacheLookups(type, hits, misses, CacheCountSource.Metrics);
            }
        }

        return byType.Values.OrderBy(c => c.QueryType, StringComparer.Ordinal).ToList();
    }

    /// <summary>All query types' hits and misses added up (<c>QueryType</c> is <c>all</c>).</summary>
    public static CacheLookups Total(IReadOnlyList<CacheLookups> lookups) => new(
        "all",
        Saturating.Sum(lookups.Select(l => l.Hits)),
        Saturating.Sum(lookups.Select(l => l.Misses)),
        lookups.Any(l => l.Source == CacheCountSource.Metrics) ? CacheCountSource.Metrics : CacheCountSource.Spans);

    /// <summary>
    /// Every connection pool reported within <see cref="Freshness"/>, from Npgsql 10's
    /// <c>db.client.connection.count</c>/<c>.max</c> or Npgsql 8/9's <c>db.client.connections.usage</c>/<c>.max</c>;
    /// <see cref="PoolReading.PeakUsed"/> over <paramref name="window"/>.
    /// </summary>
    public IReadOnlyList<PoolReading> Pools(TimeSpan window)
    {
        var fresh = Now - Freshness;
        var pools = new Dictionary<(string Service, string Instance, string Pool), PoolAccumulator>();
        foreach (var name in new[] { WellKnownMetrics.ConnectionCount, WellKnownMetrics.ConnectionsUsage })
        {
            foreach (var series in store.Metrics.Series(name, window))
            {
                if (series.LastSeen < fresh)
                {
                    continue;
                }

                var pool = Pool(series, pools);
                var state = Attribute(series, "db.client.connection.state", "state");
                var level = Saturating.Count(series.LastValue);
                if (string.Equals(state, "used", StringComparison.OrdinalIgnoreCase))
                {
                    pool.Used = Saturating.Add(pool.Used, level);
                    pool.PeakUsed = Saturating.Add(pool.PeakUsed, Math.Max(level, Saturating.Count(series.Buckets.Max(b => b.Max) ?? 0)));
                }
                else if (string.Equals(state, "idle", StringComparison.OrdinalIgnoreCase))
                {
                    pool.Idle = Saturating.Add(pool.Idle, level);
                }

                pool.LastSeen = series.LastSeen > pool.LastSeen ? series.LastSeen : pool.LastSeen;
            }
        }

        foreach (var name in new[] { WellKnownMetrics.ConnectionMax, WellKnownMetrics.ConnectionsMax })
        {
            foreach (var series in store.Metrics.Series(name))
            {
                if (series.LastSeen >= fresh)
                {
                    var pool = Pool(series, pools);
                    pool.Max = Saturating.Add(pool.Max ?? 0, Saturating.Count(series.LastValue));
                }
            }
        }

        return pools
            .Where(p => p.Value.LastSeen > DateTimeOffset.MinValue)
            .OrderBy(p => p.Key.Service, StringComparer.Ordinal)
            .ThenBy(p => p.Key.Instance, StringComparer.Ordinal)
            .ThenBy(p => p.Key.Pool, StringComparer.Ordinal)
            .Select(p => new PoolReading(
                p.Key.Service, p.Key.Instance, p.Key.Pool, p.Value.Used, p.Value.Idle, p.Value.Max,
                Math.Max(p.Value.PeakUsed, p.Value.Used), p.Value.LastSeen))
            .ToList();

        static PoolAccumulator Pool(MetricSeriesSnapshot series, Dictionary<(string, string, string), PoolAccumulator> pools)
        {
            var key = (series.Service, series.Instance, Attribute(series, "db.client.connection.pool.name", "pool.name") ?? "");
            if (!pools.TryGetValue(key, out var pool))
            {
                pools[key] = pool = new PoolAccumulator();
            }

            return pool;
        }
    }

    /// <summary>Each service instance's in-process cache (<c>nexuscore.cache.entries</c> and <c>.size</c>) reported within <see cref="Freshness"/>.</summary>
    public IReadOnlyList<CacheMemoryReading> CacheMemory()
    {
        var fresh = Now - Freshness;
        var instances = new Dictionary<(string Service, string Instance), CacheMemoryReading>();
        foreach (var series in store.Metrics.Series(WellKnownMetrics.CacheSize).Where(s => s.LastSeen >= fresh))
        {
            var key = (series.Service, series.Instance);
            var reading = instances.GetValueOrDefault(key) ?? new CacheMemoryReading(series.Service, series.Instance, 0, 0, series.LastSeen);
            instances[key] = reading with { SizeBytes = Saturating.Amount(reading.SizeBytes + Saturating.Amount(series.LastValue)), LastSeen = Latest(reading.LastSeen, series.LastSeen) };
        }

        foreach (var series in store.Metrics.Series(WellKnownMetrics.CacheEntries).Where(s => s.LastSeen >= fresh))
        {
            var key = (series.Service, series.Instance);
            var reading = instances.GetValueOrDefault(key) ?? new CacheMemoryReading(series.Service, series.Instance, 0, 0, series.LastSeen);
            instances[key] = reading with { Entries = Saturating.Add(reading.Entries, Saturating.Count(series.LastValue)), LastSeen = Latest(reading.LastSeen, series.LastSeen) };
        }

        return instances.Values.OrderBy(r => r.Service, StringComparer.Ordinal).ThenBy(r => r.Instance, StringComparer.Ordinal).ToList();
    }

    /// <summary>The query types the cache counters name (attribute <c>query.type</c>).</summary>
    private IEnumerable<string> CounterQueryTypes() =>
        store.Metrics.Series(WellKnownMetrics.CacheHits).Concat(store.Metrics.Series(WellKnownMetrics.CacheMisses))
            .Select(s => s.Attributes.GetValueOrDefault(QueryTypeAttribute))
            .OfType<string>()
            .Distinct(StringComparer.OrdinalIgnoreCase);

    private static string? Attribute(MetricSeriesSnapshot series, string name, string legacyName) =>
        series.Attributes.GetValueOrDefault(name) ?? series.Attributes.GetValueOrDefault(legacyName);

    private static DateTimeOffset Latest(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private sealed class PoolAccumulator
    {
        public long Used;
        public long Idle;
        public long? Max;
        public long PeakUsed;
        public DateTimeOffset LastSeen = DateTimeOffset.MinValue;
    }
}
