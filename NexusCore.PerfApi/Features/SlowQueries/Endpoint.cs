using FastEndpoints;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Analysis.Indexes;
using NexusCore.PerfApi.Analysis.Performance;
using NexusCore.PerfApi.Contract;
using NexusCore.PerfApi.Sql;
using NexusCore.PerfApi.Store;
using Npgsql;
using NexusCore.ServiceDefaults;

namespace NexusCore.PerfApi.Features.SlowQueries;

/// <summary>
/// <c>GET /api/v1/performance/slow-queries?threshold=&lt;seconds&gt;&amp;window=5m|15m|1h&amp;limit=1..200</c> (reader):
/// statements with a run of at least SLOW_QUERY_THRESHOLD (or <c>threshold</c>) in the window, slowest mean
/// first, each joined with its <c>pg_stat_statements</c> row.
/// </summary>
public sealed class Endpoint(PerformanceReader reader, NpgsqlDataSource db, IOptionsMonitor<SlowQueryOptions> options, IOptionsMonitor<IndexAdvisorOptions> advisor)
    : Endpoint<Request, Response>
{
    public override void Configure()
    {
        Get("slow-queries");
        Group<PerformanceGroup>();
        Roles(ApiRoles.Reader);
        Description(d => d.WithName("listSlowQueries").ClearDefaultProduces().Produces<Response>().ProducesProblems(OpenApiDescriptions.KeyedRoute));
        Summary(s =>
        {
            s.Summary = "Statements over SLOW_QUERY_THRESHOLD, joined with pg_stat_statements";
            s.Description = "Normalized statements with at least one run of `threshold` seconds or more in the window, slowest mean first. " +
                            "When pg_stat_statements cannot be read, the list still answers and `pgStatStatementsUnavailable` says why.";
            s.Params["threshold"] = "Seconds a run must take to count as slow, 0 to 86400 (e.g. 0.5); SLOW_QUERY_THRESHOLD when left out.";
            s.Params["window"] = "How far back: 5m, 15m or 1h.";
            s.Params["limit"] = "At most this many statements, slowest mean first.";
            s.RateLimited();
            s.ResponseExamples[200] = Response.Example;
        });
    }

    public override async Task HandleAsync(Request request, CancellationToken ct)
    {
        var thresholdSeconds = request.Threshold ?? options.CurrentValue.ThresholdSeconds;
        var window = TimeWindow.Named(request.Window);
        var limit = request.Limit;
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
        var pgKeys = Data.Keys(pgStat);

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
            Data.Join(s.Statement, pgKeys))).ToList();

        await Send.OkAsync(new Response(thresholdSeconds, window.Name, reader.Now, pgStat.Unavailable, queries), ct);
    }
}
