using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Store;

namespace NexusCore.PerfApi.Analysis.Performance;

/// <summary>
/// The figures the performance endpoints, alerts and recommendations share, read from the
/// <see cref="TelemetryStore"/>: logical query totals, cache hits and misses per query type, connection pools
/// and cache memory. Stateless; every call reads the store as it is now. Counts and levels read from metrics
/// are <see cref="Saturating"/>: never negative, never past their type's range, whatever a sender reported.
/// </summary>
/// <remarks>
/// Query figures are read through an <see cref="IQueryRollupReader"/> (the in-memory roll-ups unless another is
/// registered, e.g. one that adds persisted history): see that interface for the seam.
/// </remarks>
public sealed class PerformanceReader(
    TelemetryStore store, TimeProvider time, IOptions<TelemetryStoreOptions> options, IQueryRollupReader? rollups = null)
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
    public double RateSeconds(TimeSpan window) =>
        Math.Max(1, Math.Min(window.TotalSeconds, (Now - (_rollups.HeldSince ?? store.StartedAt)).TotalSeconds));

    /// <summary>
    /// The width of one point of a window's query time series: a roll-up (a minute) up to an hour, an hour beyond
    /// (24 points a day, 168 a week), the grain history keeps closed hours in.
    /// </summary>
    public TimeSpan PointWidth(TimeSpan window)
    {
        var width = store.Rollups.Width;
        var point = window <= TimeSpan.FromHours(1) ? width : TimeSpan.FromHours(1);
        return point > width ? point : width;
    }

    /// <summary>
    /// The start of a window: whole points ending with the current, partial one. Up to an hour, whole roll-ups
    /// (<c>5m</c> = the current minute and the four before it); beyond, whole clock hours (<c>24h</c> = the current hour
    /// and the 23 before it), so that a long window reads history's compacted hours whole and its points are clock hours.
    /// </summary>
    public DateTimeOffset WindowStart(TimeSpan window)
    {
        var width = PointWidth(window);
        if (width == store.Rollups.Width)
        {
            return store.Rollups.WindowStart(window);
        }

        var now = Now.ToUniversalTime();
        var current = new DateTimeOffset(now.Ticks - now.Ticks % width.Ticks, TimeSpan.Zero);
        var points = Math.Max(1, (long)Math.Ceiling(window / width));
        return current - width * (points - 1);
    }

    /// <summary>Exemplars an analytics series carries at most.</summary>
    public const int ExemplarsPerSeries = 5;

    private readonly IQueryRollupReader _rollups = rollups ?? store.Rollups;

    /// <summary>
    /// Every series (service, table, operation, query type) with a query in the window, busiest first: its figures
    /// merged over the window's roll-ups and over cache outcomes, its cache hits and misses, its slowest exemplars,
    /// and one point per <see cref="PointWidth"/> of the window (oldest first).
    /// </summary>
    public IReadOnlyList<QuerySeriesReading> QuerySeries(TimeSpan window)
    {
        var (from, rollups) = Read(window);
        var width = PointWidth(window);
        // The whole points from the start, and the current one (partial, or just begun).
        var slots = (int)((Now - from) / width) + 1;
        var series = new Dictionary<QuerySeriesKey, SeriesAccumulator>();
        foreach (var rollup in rollups)
        {
            var key = QuerySeriesKey.Of(rollup.Key);
            if (!series.TryGetValue(key, out var accumulator))
            {
                series[key] = accumulator = new SeriesAccumulator(slots);
            }

            var slot = Math.Clamp((int)((rollup.Minute - from) / width), 0, slots - 1);
            accumulator.Add(rollup, slot);
        }

        return series
            .Where(s => s.Value.Durations.Count > 0)
            .Select(s => s.Value.Reading(s.Key, from, width))
            .OrderByDescending(s => s.Stats.Count)
            .ThenBy(s => s.Key.Service, StringComparer.Ordinal)
            .ThenBy(s => s.Key.QueryType, StringComparer.Ordinal)
            .ThenBy(s => s.Key.Table, StringComparer.Ordinal)
            .ThenBy(s => s.Key.Operation, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>All queries of the window (of one query type when given) merged into one set of figures.</summary>
    public QueryStats Queries(TimeSpan window, string? queryType = null)
    {
        var durations = new ExponentialHistogram();
        long errors = 0;
        foreach (var rollup in Read(window).Rollups)
        {
            if (queryType is null || string.Equals(queryType, rollup.Key.QueryType, StringComparison.OrdinalIgnoreCase))
            {
                durations.Merge(rollup.Durations);
                errors = Saturating.Add(errors, rollup.Errors);
            }
        }

        return QueryStats.Of(durations, errors);
    }

    /// <summary>
    /// All queries of the window merged per point (<see cref="PointWidth"/>, oldest first), with the cache outcomes
    /// the roll-ups carry: the overview's charts. Points without a query have <see cref="QueryStats.None"/>.
    /// </summary>
    public IReadOnlyList<TimelinePoint> Timeline(TimeSpan window)
    {
        var (from, rollups) = Read(window);
        var width = PointWidth(window);
        var slots = (int)((Now - from) / width) + 1;
        var durations = new ExponentialHistogram?[slots];
        var errors = new long[slots];
        var hits = new long[slots];
        var misses = new long[slots];
        foreach (var rollup in rollups)
        {
            var slot = Math.Clamp((int)((rollup.Minute - from) / width), 0, slots - 1);
            (durations[slot] ??= new ExponentialHistogram()).Merge(rollup.Durations);
            errors[slot] = Saturating.Add(errors[slot], rollup.Errors);
            if (rollup.Key.CacheHit == true)
            {
                hits[slot] = Saturating.Add(hits[slot], rollup.Durations.Count);
            }
            else if (rollup.Key.CacheHit == false)
            {
                misses[slot] = Saturating.Add(misses[slot], rollup.Durations.Count);
            }
        }

        return Enumerable.Range(0, slots).Select(i => new TimelinePoint(
            from + (width * i),
            width,
            durations[i] is { } point ? QueryStats.Of(point, errors[i]) : QueryStats.None with { Errors = errors[i] },
            hits[i],
            misses[i])).ToList();
    }

    /// <summary>
    /// All queries of the window just before <paramref name="window"/> (as long, ending where it starts), merged:
    /// what the overview compares the window with. Null when PerfApi holds nothing that far back.
    /// </summary>
    public QueryStats? PreviousQueries(TimeSpan window)
    {
        var to = WindowStart(window);
        var from = to - (Now - to);
        if (_rollups.HeldSince is null && from < store.StartedAt - PointWidth(window))
        {
            return null;
        }

        var durations = new ExponentialHistogram();
        long errors = 0;
        foreach (var rollup in _rollups.Read(from, to))
        {
            durations.Merge(rollup.Durations);
            errors = Saturating.Add(errors, rollup.Errors);
        }

        return QueryStats.Of(durations, errors);
    }

    /// <summary>The query types with a query in the window, in order.</summary>
    public IReadOnlyList<string> QueryTypes(TimeSpan window) =>
        Read(window).Rollups.Where(r => r.Durations.Count > 0).Select(r => r.Key.QueryType)
            .Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// Cache hits and misses per query type from ClientsApi's cache counters (<c>nexuscore.cache.hits</c> and
    /// <c>.stale</c> are hits, as a stale read is served from the cache; <c>.misses</c>), every instance added up.
    /// </summary>
    public IReadOnlyList<CacheLookups> CacheLookups(TimeSpan window)
    {
        var lookups = new List<CacheLookups>();
        foreach (var type in CounterQueryTypes())
        {
            var filter = new MetricFilter(Attributes: new Dictionary<string, string> { [QueryTypeAttribute] = type });
            var hits = Saturating.Add(
                Saturating.Count(store.Metrics.Increase(WellKnownMetrics.CacheHits, window, filter)),
                Saturating.Count(store.Metrics.Increase(WellKnownMetrics.CacheStale, window, filter)));
            var misses = Saturating.Count(store.Metrics.Increase(WellKnownMetrics.CacheMisses, window, filter));
            if (hits > 0 || misses > 0)
            {
                lookups.Add(new CacheLookups(type, hits, misses));
            }
        }

        return lookups.OrderBy(c => c.QueryType, StringComparer.Ordinal).ToList();
    }

    /// <summary>All query types' hits and misses added up (<c>QueryType</c> is <c>all</c>).</summary>
    public static CacheLookups Total(IReadOnlyList<CacheLookups> lookups) => new(
        "all",
        Saturating.Sum(lookups.Select(l => l.Hits)),
        Saturating.Sum(lookups.Select(l => l.Misses)));

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

    /// <summary>
    /// The settings services report in force (<c>nexuscore.setting</c>) within <see cref="Freshness"/>, one per
    /// service and setting (its instances run with the same settings; the latest report wins).
    /// </summary>
    public IReadOnlyList<SettingReading> Settings()
    {
        var fresh = Now - Freshness;
        return store.Metrics.Series(WellKnownMetrics.Setting)
            .Where(s => s.LastSeen >= fresh && s.Attributes.ContainsKey("nexuscore.setting.name"))
            .OrderByDescending(s => s.LastSeen)
            .Select(s => new SettingReading(
                s.Service,
                s.Attributes["nexuscore.setting.name"],
                s.Attributes.GetValueOrDefault("nexuscore.setting.key") ?? s.Attributes["nexuscore.setting.name"],
                Saturating.Count(s.LastValue),
                s.Attributes.GetValueOrDefault(QueryTypeAttribute),
                s.Attributes.GetValueOrDefault("db.client.connection.pool.name")))
            .DistinctBy(s => (s.Service, s.Name, s.QueryType, s.Pool))
            .OrderBy(s => s.Service, StringComparer.Ordinal)
            .ThenBy(s => s.Name, StringComparer.Ordinal)
            .ToList();
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
            .Concat(store.Metrics.Series(WellKnownMetrics.CacheStale))
            .Select(s => s.Attributes.GetValueOrDefault(QueryTypeAttribute))
            .OfType<string>()
            .Distinct(StringComparer.OrdinalIgnoreCase);

    private static string? Attribute(MetricSeriesSnapshot series, string name, string legacyName) =>
        series.Attributes.GetValueOrDefault(name) ?? series.Attributes.GetValueOrDefault(legacyName);

    private static DateTimeOffset Latest(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    /// <summary>The window's roll-ups, from the first roll-up of the window to now.</summary>
    private (DateTimeOffset From, IReadOnlyList<MinuteRollup> Rollups) Read(TimeSpan window)
    {
        var from = WindowStart(window);
        return (from, _rollups.Read(from, Now + store.Rollups.Width));
    }

    private sealed class SeriesAccumulator(int slots)
    {
        private readonly ExponentialHistogram?[] _points = new ExponentialHistogram?[slots];
        private readonly long[] _pointErrors = new long[slots];
        private readonly List<QueryExemplar> _exemplars = [];
        private long _errors;
        private long _hits;
        private long _misses;
        private DateTimeOffset _lastSeen = DateTimeOffset.MinValue;

        public ExponentialHistogram Durations { get; } = new();

        public void Add(MinuteRollup rollup, int slot)
        {
            Durations.Merge(rollup.Durations);
            (_points[slot] ??= new ExponentialHistogram()).Merge(rollup.Durations);
            _pointErrors[slot] = Saturating.Add(_pointErrors[slot], rollup.Errors);
            _errors = Saturating.Add(_errors, rollup.Errors);
            if (rollup.Key.CacheHit is { } hit)
            {
                if (hit)
                {
                    _hits = Saturating.Add(_hits, rollup.Durations.Count);
                }
                else
                {
                    _misses = Saturating.Add(_misses, rollup.Durations.Count);
                }
            }

            if (rollup.Durations.Count > 0 && rollup.Minute > _lastSeen)
            {
                _lastSeen = rollup.Minute;
            }

            _exemplars.AddRange(rollup.Exemplars ?? []);
        }

        public QuerySeriesReading Reading(QuerySeriesKey key, DateTimeOffset from, TimeSpan width) => new(
            key,
            QueryStats.Of(Durations, _errors),
            _hits,
            _misses,
            _lastSeen,
            _exemplars
                .DistinctBy(e => e.TraceId)
                .OrderByDescending(e => e.DurationSeconds)
                .ThenByDescending(e => e.At)
                .Take(ExemplarsPerSeries)
                .Select(ExemplarReading.Of)
                .ToList(),
            _points.Select((point, i) => new QueryPoint(from + (width * i), point is null ? QueryStats.None with { Errors = _pointErrors[i] } : QueryStats.Of(point, _pointErrors[i]))).ToList());
    }

    private sealed class PoolAccumulator
    {
        public long Used;
        public long Idle;
        public long? Max;
        public long PeakUsed;
        public DateTimeOffset LastSeen = DateTimeOffset.MinValue;
    }
}
