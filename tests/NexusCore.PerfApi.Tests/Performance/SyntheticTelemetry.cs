using Google.Protobuf;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Analysis.Performance;
using NexusCore.PerfApi.Ingest;
using NexusCore.PerfApi.Store;
using NexusCore.PerfApi.Tests.Telemetry;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Metrics.V1;
using OpenTelemetry.Proto.Trace.V1;
using static NexusCore.PerfApi.Tests.Features.Otlp.OtlpPayloads;

namespace NexusCore.PerfApi.Tests.Performance;

/// <summary>
/// A store on a manual clock fed as the receiver feeds it: OTLP messages built with the generated classes and
/// decoded by the receiver's own decoders, describing the queries, cache and pools a test wants.
/// </summary>
internal sealed class SyntheticTelemetry
{
    public const string Service = "clients-api";

    /// <summary>The scale of the histograms sent: the store's finest (1.1 % buckets).</summary>
    public const int Scale = 5;

    private int _spanCount;

    public SyntheticTelemetry(Action<TelemetryStoreOptions>? configure = null)
    {
        (Store, Clock) = StoreFixtures.Create(configure);
        var options = new TelemetryStoreOptions();
        configure?.Invoke(options);

        // The store has been up a while: rates divide by whole windows, and counters started after it count whole.
        Clock.Advance(TimeSpan.FromMinutes(30));
        Reader = new PerformanceReader(Store, Clock, Options.Create(options));
    }

    public TelemetryStore Store { get; }

    public ManualTimeProvider Clock { get; }

    public PerformanceReader Reader { get; }

    public DateTimeOffset Now => Clock.GetUtcNow();

    /// <summary>When the cumulative counters of <see cref="CacheCounters"/> started: after the store, so they count whole.</summary>
    public DateTimeOffset CountersStart => StoreFixtures.Start.AddSeconds(1);

    /// <summary>
    /// Logical queries of one query type, one per duration, as ClientsApi reports them: one delta
    /// <c>nexuscore.query.duration</c> export ending now (seconds, scale <see cref="Scale"/>), one point per cache
    /// outcome; the first <paramref name="cacheHits"/> are hits, the next <paramref name="cacheMisses"/> misses, the
    /// rest have no outcome; the last <paramref name="errors"/> of those failed.
    /// </summary>
    public void Queries(
        string queryType, IEnumerable<double> durationsMs, int cacheHits = 0, int cacheMisses = 0, string service = Service,
        string operation = "SELECT", int errors = 0, string instance = "instance-1")
    {
        var seconds = durationsMs.Select(ms => ms / 1000).ToList();
        var groups = new (IEnumerable<double> Values, KeyValue? Outcome)[]
        {
            (seconds.Take(cacheHits), Attribute("nexuscore.cache.hit", true)),
            (seconds.Skip(cacheHits).Take(cacheMisses), Attribute("nexuscore.cache.hit", false)),
            (seconds.Skip(cacheHits + cacheMisses).SkipLast(errors), null),
            (seconds.Skip(cacheHits + cacheMisses).TakeLast(errors), Attribute("error.type", "NpgsqlException")),
        };
        var points = groups.Where(g => g.Values.Any()).Select(g =>
        {
            KeyValue[] attributes = [Attribute("nexuscore.query.type", queryType), Attribute("db.collection.name", "clients"), Attribute("db.operation.name", operation)];
            return ExponentialPoint(Now.AddSeconds(-1), Now, Scale, g.Values, g.Outcome is { } outcome ? [.. attributes, outcome] : attributes);
        }).ToArray();
        Metrics(service, instance, ExponentialHistogram(WellKnownMetrics.QueryDuration, "s", AggregationTemporality.Delta, points));
    }

    /// <summary>
    /// Cache lookups of one query type (each 1 ms long), <paramref name="hits"/> hits and <paramref name="misses"/> misses:
    /// the queries in the duration histogram and the cache counters (deltas), as ClientsApi reports both.
    /// </summary>
    public void Lookups(string queryType, int hits, int misses, string service = Service)
    {
        Queries(queryType, Enumerable.Repeat(1.0, hits + misses), hits, misses, service);
        Metrics(service, "instance-1",
            Sum(WellKnownMetrics.CacheHits, "{request}", isMonotonic: true, AggregationTemporality.Delta,
                Integer(Now.AddSeconds(-1), Now, hits, Attribute(PerformanceReader.QueryTypeAttribute, queryType))),
            Sum(WellKnownMetrics.CacheMisses, "{request}", isMonotonic: true, AggregationTemporality.Delta,
                Integer(Now.AddSeconds(-1), Now, misses, Attribute(PerformanceReader.QueryTypeAttribute, queryType))));
    }

    /// <summary>PostgreSQL client spans running <paramref name="sql"/>, one per duration, ending now.</summary>
    public void Sql(string sql, IEnumerable<double> durationsMs, string service = Service) =>
        Traces(service, durationsMs.Select(ms => WithIds(Span(Now, TimeSpan.FromMilliseconds(ms),
            Attribute("db.system.name", "postgresql"), Attribute("db.query.text", sql)))).ToArray());

    /// <summary>A pool as Npgsql 10 reports it (or Npgsql 8/9 with <paramref name="legacyNames"/>), at <paramref name="at"/> (default now).</summary>
    public void Pool(int used, int idle, int? max, string service = Service, string pool = "clientsdb", DateTimeOffset? at = null, bool legacyNames = false)
    {
        var time = at ?? Now;
        var start = StoreFixtures.Start.AddSeconds(1);
        var (count, maxName, stateKey, poolKey) = legacyNames
            ? (WellKnownMetrics.ConnectionsUsage, WellKnownMetrics.ConnectionsMax, "state", "pool.name")
            : (WellKnownMetrics.ConnectionCount, WellKnownMetrics.ConnectionMax, "db.client.connection.state", "db.client.connection.pool.name");
        var metrics = new List<Metric>
        {
            Sum(count, "{connection}", isMonotonic: false, AggregationTemporality.Cumulative,
                Integer(start, time, used, Attribute(poolKey, pool), Attribute(stateKey, "used")),
                Integer(start, time, idle, Attribute(poolKey, pool), Attribute(stateKey, "idle"))),
        };
        if (max is { } size)
        {
            metrics.Add(Sum(maxName, "{connection}", isMonotonic: false, AggregationTemporality.Cumulative, Integer(start, time, size, Attribute(poolKey, pool))));
        }

        Metrics(service, "instance-1", [.. metrics]);
    }

    /// <summary>A setting in force as a service reports it (gauge <c>nexuscore.setting</c>), now.</summary>
    public void Setting(string name, string key, long value, string? queryType = null, string? pool = null, string service = Service)
    {
        var attributes = new List<KeyValue> { Attribute("nexuscore.setting.name", name), Attribute("nexuscore.setting.key", key) };
        if (queryType is not null)
        {
            attributes.Add(Attribute("query.type", queryType));
        }

        if (pool is not null)
        {
            attributes.Add(Attribute("db.client.connection.pool.name", pool));
        }

        Metrics(service, "instance-1", Gauge(WellKnownMetrics.Setting, "{value}", Integer(Now, Now, value, [.. attributes])));
    }

    /// <summary>A cache TTL in force as ClientsApi reports it: <c>CACHE_TTL_FIND</c> for <c>find</c>.</summary>
    public void CacheTtl(string queryType, long seconds) =>
        Setting($"CACHE_TTL_{queryType.ToUpperInvariant()}", $"Cache:{char.ToUpperInvariant(queryType[0])}{queryType[1..]}TtlSeconds", seconds, queryType: queryType);

    /// <summary>The in-process cache's gauges, at <paramref name="at"/> (default now).</summary>
    public void CacheMemory(long entries, double megabytes, string service = Service, string instance = "instance-1", DateTimeOffset? at = null)
    {
        var time = at ?? Now;
        Metrics(service, instance,
            Gauge(WellKnownMetrics.CacheEntries, "{entry}", Integer(time, time, entries)),
            Gauge(WellKnownMetrics.CacheSize, "By", Number(time, time, megabytes * PerformanceReader.BytesPerMb)));
    }

    /// <summary>The cache counters of one query type, cumulative since <see cref="CountersStart"/>.</summary>
    public void CacheCounters(string queryType, long hits, long misses, string service = Service) =>
        Metrics(service, "instance-1",
            Sum(WellKnownMetrics.CacheHits, "{request}", isMonotonic: true, AggregationTemporality.Cumulative,
                Integer(CountersStart, Now, hits, Attribute(PerformanceReader.QueryTypeAttribute, queryType))),
            Sum(WellKnownMetrics.CacheMisses, "{request}", isMonotonic: true, AggregationTemporality.Cumulative,
                Integer(CountersStart, Now, misses, Attribute(PerformanceReader.QueryTypeAttribute, queryType))));

    public void Traces(string service, params Span[] spans) => Store.Apply(TracesDecoder.Decode(TraceRequest(service, spans)));

    public void Metrics(string service, string instance, params Metric[] metrics) =>
        Store.Apply(MetricsDecoder.Decode(MetricRequest(service, instance, metrics)));

    /// <summary>Each span its own trace and span id, so that samples can be told apart.</summary>
    private Span WithIds(Span span)
    {
        var n = ++_spanCount;
        var traceId = new byte[16];
        BitConverter.GetBytes(n).CopyTo(traceId, 12);
        traceId[0] = 0x7e;
        span.TraceId = ByteString.CopyFrom(traceId);
        span.SpanId = ByteString.CopyFrom(BitConverter.GetBytes((long)n | (1L << 62)));
        return span;
    }
}
