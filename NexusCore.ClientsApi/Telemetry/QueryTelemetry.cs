using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace NexusCore.ClientsApi.Telemetry;

/// <summary>
/// One span and one <c>nexuscore.query.duration</c> measurement per logical query (a read through the
/// cache, or a write), tagged with its query type, table, operation, cache outcome and rows. The span
/// carries no values from the request or the rows: names and emails never reach telemetry. Turned off
/// by <c>PERFORMANCE_MONITORING=false</c>; Npgsql's own spans and metrics stay on either way.
/// </summary>
public sealed class QueryTelemetry
{
    public const string SourceName = "NexusCore.ClientsApi";

    public const string QueryTypeTag = "nexuscore.query.type";
    public const string TableTag = "db.collection.name";
    public const string OperationTag = "db.operation.name";
    public const string CacheHitTag = "nexuscore.cache.hit";
    public const string RowsTag = "nexuscore.rows";

    private static readonly ActivitySource Source = new(SourceName);

    private readonly Histogram<double> _duration;

    public QueryTelemetry(IMeterFactory meters, IConfiguration configuration)
    {
        Enabled = !string.Equals(configuration["PERFORMANCE_MONITORING"], "false", StringComparison.OrdinalIgnoreCase);
        _duration = meters.Create(SourceName).CreateHistogram(
            "nexuscore.query.duration",
            unit: "s",
            description: "Duration of logical queries, cache included",
            advice: new InstrumentAdvice<double>
            {
                HistogramBucketBoundaries = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
            });
    }

    public bool Enabled { get; }

    /// <summary>Starts timing a query; dispose the scope when it ends. A no-op when monitoring is off.</summary>
    public QueryScope Start(string queryType, string operation, string table = "clients")
    {
        if (!Enabled)
        {
            return QueryScope.Off;
        }

        var activity = Source.StartActivity($"{queryType} {table}", ActivityKind.Internal);
        activity?.SetTag(QueryTypeTag, queryType);
        activity?.SetTag(TableTag, table);
        activity?.SetTag(OperationTag, operation);
        return new QueryScope(this, activity, queryType, operation, table, Stopwatch.GetTimestamp());
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

        _duration.Record(seconds, tags);
    }
}

/// <summary>An open query measurement: set <see cref="Rows"/> and <see cref="CacheHit"/>, then dispose.</summary>
public sealed class QueryScope(QueryTelemetry? telemetry, Activity? activity, string queryType, string operation, string table, long started) : IDisposable
{
    /// <summary>The scope handed out when monitoring is off: it records nothing.</summary>
    public static readonly QueryScope Off = new(null, null, "", "", "", 0);

    public string QueryType { get; } = queryType;
    public string Operation { get; } = operation;
    public string Table { get; } = table;
    public int? Rows { get; set; }
    public bool? CacheHit { get; set; }

    /// <summary>Marks the query failed (the span's status); the exception type only, never its message.</summary>
    public void Fail(Exception exception)
    {
        activity?.SetStatus(ActivityStatusCode.Error);
        activity?.SetTag("error.type", exception.GetType().Name);
    }

    public void Dispose()
    {
        if (telemetry is null)
        {
            return;
        }

        if (Rows is { } rows)
        {
            activity?.SetTag(QueryTelemetry.RowsTag, rows);
        }

        if (CacheHit is { } hit)
        {
            activity?.SetTag(QueryTelemetry.CacheHitTag, hit);
        }

        telemetry.Record(this, Stopwatch.GetElapsedTime(started).TotalSeconds);
        activity?.Dispose();
    }
}
