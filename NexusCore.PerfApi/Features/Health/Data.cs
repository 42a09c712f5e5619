using System.Diagnostics;
using NexusCore.PerfApi.Analysis.Alerts;
using Npgsql;
using StackExchange.Redis;

namespace NexusCore.PerfApi.Features.Health;

/// <summary>What a health answer is decided from: both dependencies' probes and the alerts active now.</summary>
internal sealed record Assessment(HealthStatus Status, DependencyHealth Postgres, DependencyHealth Redis, IReadOnlyList<ActiveAlert> ActiveAlerts)
{
    /// <summary>503 when unhealthy: a load balancer takes PerfApi out; degraded still serves.</summary>
    public int HttpStatus => Status == HealthStatus.Unhealthy ? 503 : 200;
}

internal static class Data
{
    /// <summary>A dependency that has not answered in this long counts as down.</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Postgres down → unhealthy; Redis down or an active alert → degraded; else healthy.</summary>
    public static async Task<Assessment> AssessAsync(NpgsqlDataSource db, IConnectionMultiplexer redis, AlertBoard alerts, CancellationToken ct)
    {
        var postgresProbe = ProbePostgresAsync(db, ct);
        var redisProbe = ProbeRedisAsync(redis, ct);
        var activeAlerts = alerts.Active;
        var postgres = await postgresProbe;
        var redisHealth = await redisProbe;

        var status = postgres.Status != HealthStatus.Healthy ? HealthStatus.Unhealthy
            : redisHealth.Status != HealthStatus.Healthy || activeAlerts.Count > 0 ? HealthStatus.Degraded
            : HealthStatus.Healthy;
        return new Assessment(status, postgres, redisHealth, activeAlerts);
    }

    public static Task<DependencyHealth> ProbePostgresAsync(NpgsqlDataSource db, CancellationToken ct) =>
        ProbeAsync(async token =>
        {
            await using var command = db.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(token);
        }, ct);

    public static Task<DependencyHealth> ProbeRedisAsync(IConnectionMultiplexer redis, CancellationToken ct) =>
        ProbeAsync(async token => await redis.GetDatabase().PingAsync().WaitAsync(token), ct);

    private static async Task<DependencyHealth> ProbeAsync(Func<CancellationToken, Task> roundTrip, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(ProbeTimeout);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await roundTrip(timeout.Token);
            return new DependencyHealth(HealthStatus.Healthy, Stopwatch.GetElapsedTime(started).TotalMilliseconds, null);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new DependencyHealth(HealthStatus.Unhealthy, null, $"no answer within {ProbeTimeout.TotalSeconds:0} s");
        }
        catch (Exception ex) when (ex is NpgsqlException or RedisException or TimeoutException)
        {
            return new DependencyHealth(HealthStatus.Unhealthy, null, ex.Message);
        }
    }
}
