using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using NexusCore.ServiceDefaults;
using OpenTelemetry.Metrics;

namespace NexusCore.ClientsApi.Telemetry;

/// <summary>
/// One span and one <c>nexuscore.query.duration</c> measurement per logical query (a read through the
/// cache, or a write), tagged with its query type, table, operation, cache outcome and, when it failed,
/// <c>error.type</c> (the span also carries rows). Neither carries values from the request or the rows:
/// names and emails never reach telemetry. Turned off by <c>PERFORMANCE_MONITORING=false</c> (<see cref="PerformanceMonitoringOptions"/>); Npgsql's
/// own spans and metrics stay on either way.
/// </summary>
/// <remarks>
/// The histogram is PerfApi's source for every query figure (counts, rates, means, percentiles, errors):
/// <see cref="AddQueryDurationView"/> makes it a base-2 exponential histogram of <see cref="MaxBuckets"/>
/// buckets, whose scale OpenTelemetry lowers only as far as the observed range needs. 320 buckets keep
/// scale 4 (16 buckets per doubling, so a percentile within 2^(1/32) − 1 = 2.2 % of the exact value) over a
/// range of 2^20, e.g. 10 µs to 10 s; scale 3 (4.4 %, still within the 5 % target) up to 2^40. Each
/// measurement made inside a sampled trace may become an exemplar carrying its trace id.
/// </remarks>
public sealed class QueryTelemetry
{
    public const string SourceName = "NexusCore.ClientsApi";

    public const string QueryTypeTag = "nexuscore.query.type";
    public const string TableTag = "db.collection.name";
    public const string OperationTag = "db.operation.name";
    public const string CacheHitTag = "nexuscore.cache.hit";
    public const string RowsTag = "nexuscore.rows";
    public const string ErrorTypeTag = "error.type";
    public const string DurationInstrument = "nexuscore.query.duration";

    /// <summary>The exponential histogram's maximum size (OpenTelemetry's default is 160, scale 3 over 10 µs – 10 s).</summary>
    public const int MaxBuckets = 320;

    private static readonly ActivitySource Source = new(SourceName);

    private readonly Histogram<double> _duration;

    private readonly TimeSpan _slowest;

    public QueryTelemetry(IMeterFactory meters, IOptions<PerformanceMonitoringOptions> monitoring, IOptions<SlowQueryOptions> slowQueries, IOptions<TracingOptions> tracing)
    {
        Enabled = monitoring.Value.Enabled;
        // The shortest threshold that can make a trace slow: SLOW_QUERY_THRESHOLD or a route's own.
        _slowest = tracing.Value.SlowRoutes
            .Select(r => TimeSpan.FromSeconds(r.ThresholdSeconds))
            .Append(slowQueries.Value.Threshold)
            .Min();
        _duration = meters.Create(SourceName).CreateHistogram<double>(
            DurationInstrument,
            unit: "s",
            description: "Duration of logical queries, cache included");
    }

    /// <summary>
    /// Exports <c>nexuscore.query.duration</c> as a base-2 exponential histogram of <see cref="MaxBuckets"/>
    /// buckets, and lets measurements made in a sampled trace become exemplars (trace-based filter).
    /// </summary>
    public static void AddQueryDurationView(IServiceCollection services) =>
        services.ConfigureOpenTelemetryMeterProvider(metrics => metrics
            .AddView(DurationInstrument, new Base2ExponentialBucketHistogramConfiguration { MaxSize = MaxBuckets })
            .SetExemplarFilter(ExemplarFilterType.TraceBased));

    public bool Enabled { get; }

    /// <summary>Starts timing a query; dispose the scope when it ends. A no-op when monitoring is off.</summary>
    public QueryScope Start(string queryType, string operation, string table = "clients")
    {
        if (!Enabled)
        {
            return QueryScope.Off;
        }

        var started = Stopwatch.GetTimestamp();
        return new QueryScope(this, StartSpan(queryType, operation, table, null), queryType, operation, table, started);
    }

    /// <summary>
    /// As <see cref="Start"/>, for a read that may be served from the cache: in a trace that is not head-sampled
    /// the span is deferred (see the remarks), made by <see cref="QueryScope.Span"/> when the read queries Postgres,
    /// or when the scope ends failed or slow.
    /// </summary>
    public QueryScope StartRead(string queryType, string table = "clients")
    {
        if (!Enabled)
        {
            return QueryScope.Off;
        }

        var started = Stopwatch.GetTimestamp();
        return Activity.Current is { Recorded: false }
            ? new QueryScope(this, null, queryType, "SELECT", table, started) { Deferred = true }
            : new QueryScope(this, StartSpan(queryType, "SELECT", table, null), queryType, "SELECT", table, started);
    }

    /// <summary>Whether a deferred read's span must be made at its end: it failed, or may make its trace slow.</summary>
    internal bool Notable(QueryScope scope, TimeSpan elapsed) => scope.ErrorType is not null || elapsed >= _slowest;

    internal static Activity? StartSpan(string queryType, string operation, string table, DateTimeOffset? startedAt)
    {
        var activity = startedAt is { } at
            ? Source.StartActivity(ActivityKind.Internal, startTime: at, name: $"{queryType} {table}")
            : Source.StartActivity($"{queryType} {table}", ActivityKind.Internal);
        activity?.SetTag(QueryTypeTag, queryType);
        activity?.SetTag(TableTag, table);
        activity?.SetTag(OperationTag, operation);
        return activity;
    }

    internal void Record(QueryScope scope, double seconds)
    {
        var tags = new TagList
        {
            { QueryTypeTag, scope.QueryType },
            { TableTag, scope.Table },
            { OperationTag, scope.Operation },
        };
        if (scope.CacheHit is { } hit)
        {
            tags.Add(CacheHitTag, hit);
        }

        if (scope.ErrorType is { } error)
        {
            tags.Add(ErrorTypeTag, error);
        }

        _duration.Record(seconds, tags);
    }
}

/// <summary>An open query measurement: set <see cref="Rows"/> and <see cref="CacheHit"/>, then dispose.</summary>
public sealed class QueryScope(QueryTelemetry? telemetry, Activity? activity, string queryType, string operation, string table, long started) : IDisposable
{
    private Activity? _activity = activity;
    private bool _ended;

    /// <summary>The scope handed out when monitoring is off: it records nothing.</summary>
    public static readonly QueryScope Off = new(null, null, "", "", "", 0);

    public string QueryType { get; } = queryType;
    public string Operation { get; } = operation;
    public string Table { get; } = table;
    public int? Rows { get; set; }
    public bool? CacheHit { get; set; }

    /// <summary>Set when the query failed: the exception's type name, never its message.</summary>
    public string? ErrorType { get; private set; }

    /// <summary>A read in a trace that is not head-sampled, whose span is made only when it matters (<see cref="QueryTelemetry.StartRead"/>).</summary>
    internal bool Deferred { get; init; }

    /// <summary>Marks the query failed (the span's status and the measurement's <c>error.type</c>); the exception type only, never its message.</summary>
    public void Fail(Exception exception)
    {
        ErrorType = exception.GetType().Name;
        var span = Volatile.Read(ref _activity);
        span?.SetStatus(ActivityStatusCode.Error);
        span?.SetTag(QueryTelemetry.ErrorTypeTag, ErrorType);
    }

    /// <summary>
    /// Makes a deferred read's span now, started when the read started, and current for the caller's flow: call it
    /// where the read goes to Postgres, so Postgres' spans nest under it. Nothing once the read has ended (a background
    /// refresh that runs after its read returned), or when the span exists already.
    /// </summary>
    public void Span()
    {
        if (!Deferred || Volatile.Read(ref _activity) is not null)
        {
            return;
        }

        // A refresh in the background can reach here as its read ends: one of the two makes the span, never both.
        lock (this)
        {
            if (!_ended && _activity is null)
            {
                _activity = QueryTelemetry.StartSpan(QueryType, Operation, Table, DateTimeOffset.UtcNow - Stopwatch.GetElapsedTime(started));
            }
        }
    }

    public void Dispose()
    {
        if (telemetry is null)
        {
            return;
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        var span = _activity;
        if (Deferred)
        {
            lock (this)
            {
                _ended = true;
                span = _activity ??= telemetry.Notable(this, elapsed)
                    ? QueryTelemetry.StartSpan(QueryType, Operation, Table, DateTimeOffset.UtcNow - elapsed)
                    : null;
            }

            if (span is not null && ErrorType is not null)
            {
                span.SetStatus(ActivityStatusCode.Error);
                span.SetTag(QueryTelemetry.ErrorTypeTag, ErrorType);
            }
        }

        if (span is not null)
        {
            if (Rows is { } rows)
            {
                span.SetTag(QueryTelemetry.RowsTag, rows);
            }

            if (CacheHit is { } hit)
            {
                span.SetTag(QueryTelemetry.CacheHitTag, hit);
            }

            // One measurement, two signals: the span ends where the histogram's value ends, so a span's duration
            // is the value recorded for it (recording is telemetry's own time, not the query's).
            span.SetEndTime(span.StartTimeUtc + elapsed);
        }

        telemetry.Record(this, elapsed.TotalSeconds);
        span?.Dispose();
    }
}
