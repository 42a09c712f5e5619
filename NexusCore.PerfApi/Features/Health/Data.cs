using System.Diagnostics;
using Npgsql;
using StackExchange.Redis;

namespace NexusCore.PerfApi.Features.Health;

internal static class Data
{
    /// <summary>A dependency that has not answered in this long counts as down.</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);

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
