using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Ingest;
using NexusCore.PerfApi.Store;

namespace NexusCore.PerfApi.Tests.Telemetry;

/// <summary>A store on a manual clock that starts on a bucket boundary, with the default bounds unless told.</summary>
internal static class StoreFixtures
{
    /// <summary>2026-03-02 10:00:00 UTC, a whole number of 10 s buckets and 1 min roll-ups since the epoch.</summary>
    public static readonly DateTimeOffset Start = new(2026, 3, 2, 10, 0, 0, TimeSpan.Zero);

    public static (TelemetryStore Store, ManualTimeProvider Clock) Create(Action<TelemetryStoreOptions>? configure = null)
    {
        var options = new TelemetryStoreOptions();
        configure?.Invoke(options);
        var clock = new ManualTimeProvider(Start);
        return (new TelemetryStore(Options.Create(options), clock, new TelemetryCounters()), clock);
    }

    public static long Nanos(DateTimeOffset time) => (time - DateTimeOffset.UnixEpoch).Ticks * 100;

    public static long Nanos(TimeSpan duration) => duration.Ticks * 100;

    /// <summary>A logical query span that ended at <paramref name="end"/> after <paramref name="duration"/>.</summary>
    public static QuerySpan Query(
        DateTimeOffset end,
        TimeSpan duration,
        string queryType = "find",
        string table = "clients",
        string operation = "by_id",
        string service = "clients-api",
        bool? cacheHit = null,
        long? rows = null,
        bool isError = false) => new()
        {
            Service = service,
            QueryType = queryType,
            Table = table,
            Operation = operation,
            CacheHit = cacheHit,
            Rows = rows,
            IsError = isError,
            StartUnixNanos = Nanos(end) - Nanos(duration),
            EndUnixNanos = Nanos(end),
        };

    /// <summary>A plain PostgreSQL client span running <paramref name="sql"/>.</summary>
    public static QuerySpan SqlSpan(DateTimeOffset end, TimeSpan duration, string sql, string service = "clients-api", UInt128 traceId = default, ulong spanId = 0) => new()
    {
        Service = service,
        Statement = sql,
        TraceId = traceId,
        SpanId = spanId,
        StartUnixNanos = Nanos(end) - Nanos(duration),
        EndUnixNanos = Nanos(end),
    };

    public static SpanBatch Batch(params QuerySpan[] spans) => new(spans, spans.Length);
}
