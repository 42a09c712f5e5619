using System.Diagnostics;
using FastEndpoints;
using Npgsql;
using StackExchange.Redis;

namespace NexusCore.PerfApi.Features.Health;

/// <summary>
/// <c>GET /api/v1/performance/health</c>: Postgres and Redis reachability with their latencies.
/// Postgres down → unhealthy (503); Redis down → degraded (the APIs still serve from Postgres).
/// </summary>
public sealed class Endpoint(NpgsqlDataSource db, IConnectionMultiplexer redis) : EndpointWithoutRequest<Response>
{
    public override void Configure()
    {
        Get("health");
        Group<PerformanceGroup>();
        AllowAnonymous();
        Description(d => d.Produces<Response>(200).Produces<Response>(503));
        Summary(s => s.Summary = "Health of PerfApi and its dependencies");
    }

    public override async Task HandleAsync(CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var postgresProbe = Data.ProbePostgresAsync(db, ct);
        var redisProbe = Data.ProbeRedisAsync(redis, ct);
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

        var status = postgres.Status != HealthStatus.Healthy ? HealthStatus.Unhealthy
            : redisHealth.Status != HealthStatus.Healthy ? HealthStatus.Degraded
            : HealthStatus.Healthy;

        var response = new Response(
            status,
            Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            DateTime.UtcNow,
            reasons,
            new Dictionary<string, DependencyHealth> { ["postgres"] = postgres, ["redis"] = redisHealth });

        await Send.ResponseAsync(response, status == HealthStatus.Unhealthy ? 503 : 200, ct);
    }
}
