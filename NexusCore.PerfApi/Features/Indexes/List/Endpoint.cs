using FastEndpoints;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Analysis.Indexes;
using NexusCore.PerfApi.Analysis.Performance;
using Npgsql;

namespace NexusCore.PerfApi.Features.Indexes.List;

/// <summary>
/// <c>GET /api/v1/performance/indexes?refresh=true|false&amp;unusedWindowSeconds=n</c> (reader): indexes to create,
/// proven with HypoPG against the statements the application's roles run (or heuristic without it), and indexes to
/// retire. <c>refresh=true</c> is rate-limited (<c>IndexAdvisor:MinRefreshInterval</c>): within the interval it gets
/// the latest analysis, with <c>refreshed: false</c> and <c>nextRefreshAt</c>.
/// </summary>
public sealed class Endpoint(IndexAdvisor advisor, IndexApplier applier, TimeProvider time, IOptionsMonitor<SlowQueryOptions> slowQueries)
    : EndpointWithoutRequest<Response>
{
    public const string Planning =
        "generic plans of the statements the application's roles ran (pg_stat_statements; telemetry is matched to them, never planned), " +
        "within the planning allowlist: each is prepared under plan_cache_mode = force_generic_plan and explained with EXECUTE (NULL, …), " +
        "in a read-only transaction that is rolled back (PostgreSQL 15 has no EXPLAIN (GENERIC_PLAN))";

    public override void Configure()
    {
        Get("indexes");
        Group<PerformanceGroup>();
        Roles(ApiRoles.Reader);
        Description(d => d.Produces<Response>().ProducesProblemFE(400).ProducesProblemFE(401).ProducesProblemFE(403).ProducesProblemFE(503));
        Summary(s => s.Summary = "Indexes to create (proven with hypothetical indexes) and indexes to retire");
    }

    public override async Task HandleAsync(CancellationToken ct)
    {
        var options = advisor.Options;
        var parameters = new QueryParameters(HttpContext.Request.Query, "refresh", "unusedWindowSeconds");
        var maxWindow = (int)Math.Min(int.MaxValue, options.UnusedWindow.TotalSeconds);
        var window = parameters.Int("unusedWindowSeconds", maxWindow, 1, maxWindow);
        var refresh = false;
        if (parameters.Single("refresh") is { } text)
        {
            if (!bool.TryParse(text, out refresh))
            {
                parameters.Errors.Add(new("refresh", "refresh must be true or false.", "refresh_invalid"));
            }
        }

        if (parameters.Errors.Count > 0)
        {
            await this.SendQueryErrorsAsync(parameters.Errors, ct);
            return;
        }

        AnalysisRead read;
        IReadOnlyList<RetireAdvice> retire;
        try
        {
            read = await advisor.AnalysisAsync(refresh, ct);
            retire = await advisor.RetireAsync(TimeSpan.FromSeconds(window), ct);
        }
        catch (NpgsqlException ex)
        {
            // Postgres refused a catalog or statistics read (a permission, a timeout), or could not be reached:
            // said, not a 500, with the SQLSTATE and our words (never PostgreSQL's text, which names hosts and values).
            var error = AdvisorErrors.Describe(ex);
            HttpContext.Response.Headers.RetryAfter = "5";
            await Send.ResultAsync(TypedResults.Problem(
                detail: $"The database refused the index analysis ({error}).",
                statusCode: StatusCodes.Status503ServiceUnavailable,
                extensions: new Dictionary<string, object?> { ["code"] = "index_analysis_failed", ["sqlState"] = error.Code }));
            return;
        }

        var analysis = read.Analysis;
        await Send.OkAsync(
            new Response(
                time.GetUtcNow(),
                analysis.StartedAt,
                read.Refreshed,
                read.NextRefreshAt,
                Math.Round(analysis.ElapsedMs, 1),
                analysis.HypoPgAvailable ? "available" : "unavailable",
                analysis.HypoPgDetail,
                Planning,
                analysis.PgStatStatementsUnavailable,
                analysis.TelemetryUnmatched,
                new Thresholds(
                    options.MinCostSavingPercent,
                    options.MinTableRows,
                    options.MinTableSizeMb,
                    options.MinCalls,
                    options.MinMeanMs,
                    slowQueries.CurrentValue.ThresholdSeconds,
                    window),
                analysis.Recommendations,
                retire,
                analysis.Statements,
                applier.Running),
            ct);
    }
}
