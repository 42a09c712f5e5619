using FastEndpoints;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Analysis.Indexes;
using NexusCore.PerfApi.Analysis.Performance;
using NexusCore.PerfApi.Contract;
using Npgsql;
using NexusCore.ServiceDefaults;

namespace NexusCore.PerfApi.Features.Indexes.List;

/// <summary>
/// <c>GET /api/v1/performance/indexes?refresh=true|false&amp;unusedWindowSeconds=n</c> (reader): indexes to create,
/// proven with HypoPG against the statements the application's roles run (or heuristic without it), and indexes to
/// retire. <c>refresh=true</c> is rate-limited (<c>IndexAdvisor:MinRefreshInterval</c>): within the interval it gets
/// the latest analysis, with <c>refreshed: false</c> and <c>nextRefreshAt</c>.
/// </summary>
public sealed class Endpoint(IndexAdvisor advisor, IndexApplier applier, TimeProvider time, IOptionsMonitor<SlowQueryOptions> slowQueries)
    : Endpoint<Request, Response>
{
    public const int RetryAfterSeconds = 5;

    public const string Planning =
        "generic plans of the statements the application's roles ran (pg_stat_statements; telemetry is matched to them, never planned), " +
        "within the planning allowlist: each is prepared under plan_cache_mode = force_generic_plan and explained with EXECUTE (NULL, …), " +
        "in a read-only transaction that is rolled back (PostgreSQL 15 has no EXPLAIN (GENERIC_PLAN))";

    public override void Configure()
    {
        Get("indexes");
        Group<PerformanceGroup>();
        Roles(ApiRoles.Reader);
        Description(d => d.WithName("getIndexAdvice").ClearDefaultProduces().Produces<Response>()
            .ProducesProblems([.. OpenApiDescriptions.KeyedRoute, 503]));
        Summary(s =>
        {
            s.Summary = "Indexes to create (proven with hypothetical indexes) and indexes to retire";
            s.Description = "503 `index_analysis_failed` (with the SQLSTATE in `sqlState`) when Postgres refuses a catalog or statistics read.";
            s.Params["refresh"] = "true runs a new analysis, at most once per IndexAdvisor:MinRefreshInterval; otherwise the latest one is reused.";
            s.Params["unusedWindowSeconds"] = "An index without scans for this long is advised for retirement: 1 to IndexAdvisor:UnusedWindow seconds, which it is when left out.";
            s.RateLimited().RetryAfter(503, RetryAfterSeconds, "Seconds before the analysis is worth asking for again.");
        });
    }

    public override async Task HandleAsync(Request request, CancellationToken ct)
    {
        var options = advisor.Options;
        var window = request.UnusedWindowSeconds ?? Request.MaxUnusedWindowSeconds(options);
        var refresh = request.Refresh;
        AnalysisRead read;
        IReadOnlyList<RetireAdvice> retire;
        IReadOnlyList<StatementRegression> regressions;
        try
        {
            read = await advisor.AnalysisAsync(refresh, ct);
            retire = await advisor.RetireAsync(TimeSpan.FromSeconds(window), ct);
            regressions = await advisor.RegressionsAsync(ct);
        }
        catch (NpgsqlException ex)
        {
            // Postgres refused a catalog or statistics read (a permission, a timeout), or could not be reached:
            // said, not a 500, with the SQLSTATE and our words (never PostgreSQL's text, which names hosts and values).
            var error = AdvisorErrors.Describe(ex);
            HttpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
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
                regressions,
                analysis.Statements,
                applier.Running),
            ct);
    }
}
