using FastEndpoints;
using NexusCore.PerfApi.Analysis.Performance;
using NexusCore.PerfApi.Contract;
using NexusCore.PerfApi.Store.History;

namespace NexusCore.PerfApi.Features.Analytics;

/// <summary>
/// <c>GET /api/v1/performance/analytics?window=5m|15m|1h|24h|7d</c> (reader): per service, table, operation and query
/// type: count, throughput, p50/p95/p99, cache hit rate, errors, exemplar traces and a time series, busiest
/// first; all from the <c>nexuscore.query.duration</c> histogram's roll-ups, read through the roll-up seam (memory's,
/// and the persisted minutes for what memory does not hold: <see cref="HistoryRollupReader"/>).
/// </summary>
public sealed class Endpoint(PerformanceReader reader) : Endpoint<Request, Response>
{
    public const int RetryAfterSeconds = 5;

    public override void Configure()
    {
        Get("analytics");
        Group<PerformanceGroup>();
        Roles(ApiRoles.Reader);
        Description(d => d.WithName("getQueryAnalytics").ClearDefaultProduces().Produces<Response>()
            .ProducesProblems([.. OpenApiDescriptions.KeyedRoute, 503]));
        Summary(s =>
        {
            s.Summary = "Query analytics per service, table, operation and query type (window 5m, 15m, 1h, 24h or 7d)";
            s.Description = "Busiest series first. 503 `history_unavailable` (with the SQLSTATE in `sqlState`) when a window that needs Postgres' history cannot read it.";
            s.Params["window"] = "How far back: 5m, 15m or 1h (whole one-minute roll-ups ending with the current one), 24h or 7d (with history from Postgres).";
            s.RateLimited().RetryAfter(503, RetryAfterSeconds, "Seconds before the history is worth asking for again.");
            s.ResponseExamples[200] = Response.Example;
        });
    }

    public override async Task HandleAsync(Request request, CancellationToken ct)
    {
        var window = TimeWindow.Named(request.Window);
        IReadOnlyList<QuerySeriesReading> readings;
        try
        {
            readings = reader.QuerySeries(window.Span);
        }
        catch (HistoryUnavailableException ex)
        {
            // Postgres could not be reached or refused the read: said, with the SQLSTATE, never PostgreSQL's text.
            HttpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await Send.ResultAsync(TypedResults.Problem(
                detail: $"The history of window {window.Name} could not be read from the database.",
                statusCode: StatusCodes.Status503ServiceUnavailable,
                extensions: new Dictionary<string, object?> { ["code"] = "history_unavailable", ["sqlState"] = ex.SqlState }));
            return;
        }

        var rateSeconds = reader.RateSeconds(window.Span);
        var series = readings.Select(entry =>
        {
            var (key, stats) = (entry.Key, entry.Stats);
            return new Series(
                key.Service, key.Table, key.Operation, key.QueryType,
                stats.Count,
                stats.Count / rateSeconds,
                stats.MeanMs,
                stats.MaxMs,
                stats.P50Ms,
                stats.P95Ms,
                stats.P99Ms,
                entry.CacheHits,
                entry.CacheMisses,
                entry.CacheHitRatio * 100,
                stats.Errors,
                entry.LastSeen,
                entry.Exemplars.Select(e => new Exemplar(e.TraceId, e.SpanId, e.DurationMs, e.At)).ToList(),
                entry.Points.Select(p => new Point(p.Start, p.Stats.Count, p.Stats.MeanMs, p.Stats.MaxMs, p.Stats.Errors, p.Stats.P95Ms)).ToList());
        }).ToList();

        await Send.OkAsync(
            new Response(window.Name, window.Span.TotalSeconds, reader.PointWidth(window.Span).TotalSeconds, rateSeconds, reader.Now, series), ct);
    }
}
