using System.Diagnostics;
using System.Text.Json;
using FastEndpoints;
using Npgsql;
using NexusCore.PerfApi.Alerts;
using NexusCore.PerfApi.Performance;
using StackExchange.Redis;

namespace NexusCore.PerfApi.Features.Health;

/// <summary>
/// <c>GET /api/v1/performance/health</c>: Postgres and Redis reachability with their latencies, a summary of the
/// last five minutes of queries and cache lookups, the connection pools and the active alerts.
/// Postgres down → unhealthy (503); Redis down or an active alert → degraded (the APIs still serve).
/// </summary>
public sealed class Endpoint(NpgsqlDataSource db, IConnectionMultiplexer redis, PerformanceReader reader, AlertBoard alerts)
    : EndpointWithoutRequest<Response>
{
    /// <summary>The seed's health summary covers the last five minutes.</summary>
    public static readonly TimeSpan SummaryWindow = TimeSpan.FromMinutes(5);

    public override void Configure()
    {
        Get("health");
        Group<PerformanceGroup>();
        AllowAnonymous();
        Description(d => d.Produces<Response>(200).Produces<Response>(503).ProducesProblemFE(400));
        Summary(s => s.Summary = "Health of PerfApi and its dependencies, recent query figures, connection pools and active alerts");
    }

    public override async Task HandleAsync(CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var parameters = new QueryParameters(HttpContext.Request.Query);
        if (parameters.Errors.Count > 0)
        {
            await this.SendQueryErrorsAsync(parameters.Errors, ct);
            return;
        }

        var postgresProbe = Data.ProbePostgresAsync(db, ct);
        var redisProbe = Data.ProbeRedisAsync(redis, ct);
        var summary = Summarize();
        var pools = reader.Pools(SummaryWindow);
        var activeAlerts = alerts.Active;
        var postgres = await postgresProbe;
        var redisHealth = await redisProbe;

        var reasons = new List<string>();
        if (postgres.Status != HealthStatus.Healthy)
        {
            reasons.Add($"postgres is unreachable: {postgres.Error}");
        }

        if (redisHealth.Status != HealthStatus.Healthy)
        {
            reasons.Add($"redis is unreachable: {redisHealth.Error}");
        }

        reasons.AddRange(activeAlerts.Select(alert => $"alert {JsonNamingPolicy.CamelCase.ConvertName(alert.Kind.ToString())} is active: {alert.Message}"));

        var status = postgres.Status != HealthStatus.Healthy ? HealthStatus.Unhealthy
            : redisHealth.Status != HealthStatus.Healthy || activeAlerts.Count > 0 ? HealthStatus.Degraded
            : HealthStatus.Healthy;

        var totals = PoolTotals.Of(pools);
        var response = new Response(
            status,
            Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            DateTime.UtcNow,
            reasons,
            new Dictionary<string, DependencyHealth> { ["postgres"] = postgres, ["redis"] = redisHealth },
            summary,
            pools.Count == 0 ? null : new ConnectionPool(totals.UtilizationPercent, totals.Active, totals.Idle, totals.Available, totals.Max, totals.Pools),
            activeAlerts);

        await Send.ResponseAsync(response, status == HealthStatus.Unhealthy ? 503 : 200, ct);
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
