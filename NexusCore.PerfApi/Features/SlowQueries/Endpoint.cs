using FastEndpoints;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Analysis.Indexes;
using NexusCore.PerfApi.Analysis.Performance;
using NexusCore.PerfApi.Sql;
using NexusCore.PerfApi.Store;
using Npgsql;

namespace NexusCore.PerfApi.Features.SlowQueries;

/// <summary>
/// <c>GET /api/v1/performance/slow-queries?threshold=&lt;seconds&gt;&amp;window=5m|15m|1h&amp;limit=1..200</c> (reader):
/// statements with a run of at least SLOW_QUERY_THRESHOLD (or <c>threshold</c>) in the window, slowest mean
/// first, each joined with its <c>pg_stat_statements</c> row.
/// </summary>
public sealed class Endpoint(PerformanceReader reader, NpgsqlDataSource db, IOptionsMonitor<SlowQueryOptions> options, IOptionsMonitor<IndexAdvisorOptions> advisor)
    : EndpointWithoutRequest<Response>
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    public override void Configure()
    {
        Get("slow-queries");
        Group<PerformanceGroup>();
        Roles(ApiRoles.Reader);
        Description(d => d.Produces<Response>().ProducesProblemFE(400).ProducesProblemFE(401).ProducesProblemFE(403));
        Summary(s => s.Summary = "Statements over SLOW_QUERY_THRESHOLD, joined with pg_stat_statements");
    }

    public override async Task HandleAsync(CancellationToken ct)
    {
        var parameters = new QueryParameters(HttpContext.Request.Query, "threshold", "window", "limit");
        var thresholdSeconds = parameters.Seconds("threshold", options.CurrentValue.ThresholdSeconds);
        var window = parameters.Window("window", TimeWindow.OneHour);
        var limit = parameters.Int("limit", DefaultLimit, 1, MaxLimit);
        if (parameters.Errors.Count > 0)
        {
            await this.SendQueryErrorsAsync(parameters.Errors, ct);
            return;
        }

        var threshold = TimeSpan.FromSeconds(thresholdSeconds);
        var store = reader.Store;
        var statements = store.Statements.List(new StatementQuery(window.Span, MinMax: threshold, Limit: limit));
        var samplesCount = threshold.Ticks * 100 >= store.Samples.ThresholdNanos
            ? store.Samples.Slowest(window.Span, threshold, int.MaxValue)
                .Where(s => s.Statement is not null)
                .GroupBy(s => (s.Key.Service, s.Statement!))
                .ToDictionary(g => g.Key, g => (long)g.Count())
            : null;

        var pgStat = statements.Count == 0 ? new PgStatRead([], null) : await Data.ReadPgStatStatementsAsync(db, advisor.CurrentValue.Roles, ct);
        var pgKeys = pgStat.Rows.Select(row => (Key: StatementMatcher.Key(row.Query), Row: row)).ToList();

        var queries = statements.Select(s => new SlowQuery(
            s.Service,
            s.Statement,
            s.Table,
            s.Verb,
            s.WindowCount,
            samplesCount is null ? null : samplesCount.GetValueOrDefault((s.Service, s.Statement)),
            s.WindowMeanMs,
            s.WindowMaxMs,
            s.LastSeen,
            s.SlowestTraceId,
            s.SlowestSpanId,
            s.Count,
            s.MeanMs,
            Join(s.Statement, pgKeys))).ToList();

        await Send.OkAsync(new Response(thresholdSeconds, window.Name, reader.Now, pgStat.Unavailable, queries), ct);
    }

    /// <summary>The pg_stat_statements entries of each statement in <paramref name="statement"/>, rows with the same key added up.</summary>
    private static IReadOnlyList<PgStatStatement> Join(string statement, IReadOnlyList<(string Key, PgStatRow Row)> pgKeys)
    {
        var joined = new List<PgStatStatement>();
        foreach (var key in StatementMatcher.Keys(statement))
        {
            var rows = pgKeys.Where(p => StatementMatcher.Matches(key, p.Key)).Select(p => p.Row).ToList();
            if (rows.Count == 0)
            {
                continue;
            }

            var calls = rows.Sum(r => r.Calls);
            var total = rows.Sum(r => r.TotalExecTimeMs);
            joined.Add(new PgStatStatement(
                rows.MaxBy(r => r.Calls)!.Query,
                calls,
                total,
                calls == 0 ? 0 : total / calls,
                rows.Sum(r => r.Rows),
                rows.Sum(r => r.SharedBlksHit),
                rows.Sum(r => r.SharedBlksRead)));
        }

        return joined;
    }
}
