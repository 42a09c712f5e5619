using NexusCore.ServiceDefaults;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Analysis.Alerts;
using NexusCore.PerfApi.Analysis.Indexes;
using NexusCore.PerfApi.Analysis.Performance;
using NexusCore.PerfApi.Features;
using NexusCore.PerfApi.Features.SlowQueries;
using SlowQueryData = NexusCore.PerfApi.Features.SlowQueries.Data;
using NexusCore.PerfApi.Store;
using NexusCore.PerfApi.Store.History;
using Npgsql;
using StackExchange.Redis;
using NexusCore.PerfApi.Features.Health;
using HealthData = NexusCore.PerfApi.Features.Health.Data;

namespace NexusCore.PerfApi.Console;

/// <summary>A window the console shows: the analytics route's windows (5m, 15m, 1h in memory; 24h, 7d with history).</summary>
public static class ConsoleWindow
{
    public static TimeWindow Parse(string? name) =>
        TimeWindow.WithHistory.FirstOrDefault(w => w.Name == name) ?? TimeWindow.FifteenMinutes;
}

public sealed record Headline(string Label, double? Value, double? Previous, string Unit, string Format, bool LowerIsBetter);

public sealed record OverviewModel(
    TimeWindow Window,
    string Status,
    IReadOnlyList<string> Reasons,
    IReadOnlyList<ActiveAlert> ActiveAlerts,
    Headline QueriesPerSecond,
    Headline P95,
    Headline P99,
    Headline CacheHitRate,
    PoolTotals Pools,
    IReadOnlyList<PoolReading> PoolReadings,
    IReadOnlyList<TimelinePoint> Timeline,
    bool Empty,
    string? HistoryError);

public sealed record QueriesModel(TimeWindow Window, double RateSeconds, IReadOnlyList<QuerySeriesReading> Series, string? HistoryError);

public sealed record QueryDetailModel(
    TimeWindow Window,
    QuerySeriesReading? Series,
    string Service,
    string Table,
    string Operation,
    string QueryType,
    IReadOnlyList<(StatementStats Statement, IReadOnlyList<PgStatStatement> PgStat)> Statements,
    string? PgStatUnavailable);

public sealed record SlowQueriesModel(TimeWindow Window, double ThresholdSeconds, IReadOnlyList<(StatementStats Statement, IReadOnlyList<PgStatStatement> PgStat)> Queries, string? PgStatUnavailable);

public sealed record AlertsModel(DateTimeOffset? LastEvaluatedAt, AlertOptions Thresholds, IReadOnlyList<ActiveAlert> Active, IReadOnlyList<AlertTransition> Recent);

public sealed record CacheModel(TimeWindow Window, IReadOnlyList<CacheLookups> ByType, CacheLookups Total, IReadOnlyList<CacheMemoryReading> Memory, IReadOnlyList<TimelinePoint> Timeline, string? Cleared);

public sealed record IndexesModel(AnalysisRead? Read, IReadOnlyList<RetireAdvice> Retire, string? Running, string? Error);

/// <summary>
/// What each page shows, read from the services the JSON routes read (the performance reader, the alert board, the
/// index advisor and applier, pg_stat_statements through the slow-queries route's data): the same figures, no second
/// computation of any.
/// </summary>
public sealed class ConsoleData(
    PerformanceReader reader,
    AlertBoard alerts,
    IOptionsMonitor<AlertOptions> alertOptions,
    IOptionsMonitor<SlowQueryOptions> slowQueries,
    IndexAdvisor advisor,
    IndexApplier applier,
    NpgsqlDataSource db,
    IConnectionMultiplexer redis)
{
    /// <summary>The statements a page lists at most.</summary>
    public const int MaxStatements = 50;

    public async Task<OverviewModel> OverviewAsync(TimeWindow window, CancellationToken ct)
    {
        var health = await HealthData.AssessAsync(db, redis, alerts, ct);
        var reasons = new List<string>();
        if (health.Postgres.Status != HealthStatus.Healthy)
        {
            reasons.Add($"postgres is unreachable: {health.Postgres.Error}");
        }

        if (health.Redis.Status != HealthStatus.Healthy)
        {
            reasons.Add($"redis is unreachable: {health.Redis.Error}");
        }

        reasons.AddRange(health.ActiveAlerts.Select(alert => $"alert {System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(alert.Kind.ToString())} is active: {alert.Message}"));

        string? historyError = null;
        QueryStats now = QueryStats.None;
        QueryStats? previous = null;
        IReadOnlyList<TimelinePoint> timeline = [];
        try
        {
            now = reader.Queries(window.Span);
            previous = reader.PreviousQueries(window.Span);
            timeline = reader.Timeline(window.Span);
        }
        catch (HistoryUnavailableException ex)
        {
            historyError = $"The history of window {window.Name} could not be read from the database (SQLSTATE {ex.SqlState}).";
        }

        var rateSeconds = reader.RateSeconds(window.Span);
        var cache = PerformanceReader.Total(reader.CacheLookups(window.Span));
        var previousCache = PerformanceReader.Total(reader.CacheLookups(window.Span + window.Span));
        var previousLookups = new CacheLookups("all", previousCache.Hits - cache.Hits, previousCache.Misses - cache.Misses);
        var pools = reader.Pools(window.Span);

        return new OverviewModel(
            window,
            health.Status.ToString().ToLowerInvariant(),
            reasons,
            health.ActiveAlerts,
            new Headline("Queries per second", now.Count / rateSeconds, previous is { } p ? p.Count / window.Span.TotalSeconds : null, "/s", "0.##", false),
            new Headline("p95 latency", now.P95Ms, previous?.P95Ms, "ms", "0.##", true),
            new Headline("p99 latency", now.P99Ms, previous?.P99Ms, "ms", "0.##", true),
            new Headline("Cache hit rate", cache.HitRatePercent, previousLookups.HitRatePercent, "%", "0.#", false),
            PoolTotals.Of(pools),
            pools,
            timeline,
            now.Count == 0 && cache.Lookups == 0 && historyError is null,
            historyError);
    }

    public QueriesModel Queries(TimeWindow window)
    {
        try
        {
            return new QueriesModel(window, reader.RateSeconds(window.Span), reader.QuerySeries(window.Span), null);
        }
        catch (HistoryUnavailableException ex)
        {
            return new QueriesModel(window, reader.RateSeconds(window.Span), [], $"The history of window {window.Name} could not be read (SQLSTATE {ex.SqlState}).");
        }
    }

    public async Task<QueryDetailModel> QueryAsync(TimeWindow window, string? service, string? table, string? operation, string? type, CancellationToken ct)
    {
        var key = new QuerySeriesKey(service ?? "", table ?? "", operation ?? "", type ?? "");
        QuerySeriesReading? series;
        try
        {
            series = reader.QuerySeries(window.Span).FirstOrDefault(s => s.Key == key);
        }
        catch (HistoryUnavailableException)
        {
            series = null;
        }

        // The statements this series ran: same service and table, the same verb. Statements are held for the memory windows only.
        var span = window.Span <= TimeWindow.OneHour.Span ? window.Span : TimeWindow.OneHour.Span;
        var statements = reader.Store.Statements.List(new StatementQuery(span, Service: key.Service, Limit: MaxStatements))
            .Where(s => string.Equals(s.Table, key.Table, StringComparison.OrdinalIgnoreCase)
                        && (s.Verb is null || string.Equals(s.Verb, key.Operation, StringComparison.OrdinalIgnoreCase)))
            .ToList();
        var (joined, unavailable) = await JoinAsync(statements, ct);
        return new QueryDetailModel(window, series, key.Service, key.Table, key.Operation, key.QueryType, joined, unavailable);
    }

    public async Task<SlowQueriesModel> SlowQueriesAsync(TimeWindow window, CancellationToken ct)
    {
        var span = window.Span <= TimeWindow.OneHour.Span ? window : TimeWindow.OneHour;
        var threshold = slowQueries.CurrentValue.ThresholdSeconds;
        var statements = reader.Store.Statements.List(new StatementQuery(span.Span, MinMax: TimeSpan.FromSeconds(threshold), Limit: MaxStatements));
        var (joined, unavailable) = await JoinAsync(statements, ct);
        return new SlowQueriesModel(span, threshold, joined, unavailable);
    }

    public AlertsModel Alerts() => new(alerts.LastEvaluatedAt, alertOptions.CurrentValue, alerts.Active, alerts.Recent);

    public CacheModel Cache(TimeWindow window, string? cleared)
    {
        var lookups = reader.CacheLookups(window.Span);
        IReadOnlyList<TimelinePoint> timeline;
        try
        {
            timeline = reader.Timeline(window.Span);
        }
        catch (HistoryUnavailableException)
        {
            timeline = [];
        }

        return new CacheModel(window, lookups, PerformanceReader.Total(lookups), reader.CacheMemory(), timeline, cleared);
    }

    public async Task<IndexesModel> IndexesAsync(CancellationToken ct)
    {
        try
        {
            var read = await advisor.AnalysisAsync(refresh: false, ct);
            var retire = await advisor.RetireAsync(null, ct);
            return new IndexesModel(read, retire, applier.Running, null);
        }
        catch (NpgsqlException ex)
        {
            return new IndexesModel(null, [], applier.Running, $"The database refused the index analysis ({AdvisorErrors.Describe(ex)}).");
        }
    }

    private async Task<(IReadOnlyList<(StatementStats, IReadOnlyList<PgStatStatement>)> Joined, string? Unavailable)> JoinAsync(
        IReadOnlyList<StatementStats> statements, CancellationToken ct)
    {
        if (statements.Count == 0)
        {
            return ([], null);
        }

        var pgStat = await SlowQueryData.ReadPgStatStatementsAsync(db, advisor.Options.Roles, ct);
        var keys = SlowQueryData.Keys(pgStat);
        return (statements.Select(s => (s, SlowQueryData.Join(s.Statement, keys))).ToList(), pgStat.Unavailable);
    }
}
