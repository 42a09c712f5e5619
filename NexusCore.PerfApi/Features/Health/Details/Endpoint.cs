using System.Diagnostics;
using System.Text.Json;
using FastEndpoints;
using NexusCore.PerfApi.Analysis.Alerts;
using NexusCore.PerfApi.Analysis.Performance;
using NexusCore.PerfApi.Contract;
using Npgsql;
using StackExchange.Redis;

namespace NexusCore.PerfApi.Features.Health.Details;

/// <summary>
/// <c>GET /api/v1/performance/health/details</c> (reader): the health status with what it is decided from (Postgres
/// and Redis reachability with their latencies or errors, the active alerts), a summary of the last five minutes
/// of queries and cache lookups, and the connection pools. Same status and HTTP status as the anonymous
/// <c>/health</c>, which says nothing else: these details name hosts and ports and carry telemetry's own strings.
/// </summary>
public sealed class Endpoint(NpgsqlDataSource db, IConnectionMultiplexer redis, PerformanceReader reader, AlertBoard alerts)
    : Endpoint<EmptyRequest, Response>
{
    /// <summary>The seed's health summary covers the last five minutes.</summary>
    public static readonly TimeSpan SummaryWindow = TimeSpan.FromMinutes(5);

    public override void Configure()
    {
        Get("health/details");
        Group<PerformanceGroup>();
        Roles(ApiRoles.Reader);
        Description(d => d.WithName("getHealthDetails").ClearDefaultProduces().Produces<Response>(200).Produces<Response>(503)
            .ProducesProblems(OpenApiDescriptions.KeyedRoute));
        Summary(s =>
        {
            s.Summary = "Health of PerfApi and its dependencies with its reasons, recent query figures, connection pools and active alerts";
            s.Responses[503] = "Unhealthy (Postgres does not answer), with the same details.";
            s.RateLimited();
        });
    }

    public override async Task HandleAsync(EmptyRequest request, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var assessing = Data.AssessAsync(db, redis, alerts, ct);
        var summary = Summarize();
        var pools = reader.Pools(SummaryWindow);
        var health = await assessing;

        var reasons = new List<string>();
        if (health.Postgres.Status != HealthStatus.Healthy)
        {
            reasons.Add($"postgres is unreachable: {health.Postgres.Error}");
        }

        if (health.Redis.Status != HealthStatus.Healthy)
        {
            reasons.Add($"redis is unreachable: {health.Redis.Error}");
        }

        reasons.AddRange(health.ActiveAlerts.Select(alert => $"alert {JsonNamingPolicy.CamelCase.ConvertName(alert.Kind.ToString())} is active: {alert.Message}"));

        var totals = PoolTotals.Of(pools);
        var response = new Response(
            health.Status,
            Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            DateTime.UtcNow,
            reasons,
            new Dictionary<string, DependencyHealth> { ["postgres"] = health.Postgres, ["redis"] = health.Redis },
            summary,
            pools.Count == 0 ? null : new ConnectionPool(totals.UtilizationPercent, totals.Active, totals.Idle, totals.Available, totals.Max, totals.Pools),
            health.ActiveAlerts);

        await Send.ResponseAsync(response, health.HttpStatus, ct);
    }

    private QuerySummary Summarize()
    {
        var queries = reader.Queries(SummaryWindow);
        var cache = PerformanceReader.Total(reader.CacheLookups(SummaryWindow));
        return new QuerySummary(
            SummaryWindow.TotalSeconds,
            queries.Count,
            queries.Count == 0 ? null : queries.MeanMs,
            cache.HitRatePercent,
            cache.Hits,
            cache.Misses);
    }
}
