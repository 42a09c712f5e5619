using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using NexusCore.ClientsApi.Caching;
using NexusCore.ClientsApi.Database;
using NexusCore.ServiceDefaults;

namespace NexusCore.ClientsApi.Telemetry;

/// <summary>
/// The settings in force that another service advises on, as the gauge <c>nexuscore.setting</c> on the service's
/// meter: one series per setting, its value in the setting's own unit (seconds for a TTL, connections for a pool),
/// with attributes <c>nexuscore.setting.name</c> (the seed's name, <c>CACHE_TTL_FIND</c>), <c>nexuscore.setting.key</c>
/// (<c>Cache:FindTtlSeconds</c>) and what it governs: <c>query.type</c> for a cache TTL (as on the cache counters),
/// <c>db.client.connection.pool.name</c> for a pool size (as on Npgsql's pool metrics). PerfApi reads its advice's
/// current values and setting names from here, never from a copy of ClientsApi's defaults.
/// </summary>
public sealed class SettingsTelemetry : IHostedService
{
    public const string Instrument = "nexuscore.setting";
    public const string NameTag = "nexuscore.setting.name";
    public const string KeyTag = "nexuscore.setting.key";
    public const string QueryTypeTag = "query.type";
    public const string PoolTag = "db.client.connection.pool.name";

    public SettingsTelemetry(IMeterFactory meters, IOptionsMonitor<CacheOptions> cache, IOptions<DatabaseOptions> database)
    {
        meters.Create(QueryTelemetry.SourceName).CreateObservableGauge(
            Instrument,
            () => Observe(cache.CurrentValue, database.Value),
            "{value}",
            "Settings in force: cache TTLs (seconds) per query type and pool sizes (connections) per pool");
    }

    public static IEnumerable<Measurement<long>> Observe(CacheOptions cache, DatabaseOptions database)
    {
        foreach (var type in Enum.GetValues<QueryType>())
        {
            var (key, seconds) = cache.TtlSeconds(type);
            yield return new Measurement<long>(seconds, Tags(key, QueryTypeTag, CacheMetrics.Name(type)));
        }

        foreach (var (pool, key, size) in database.Pools)
        {
            yield return new Measurement<long>(size, Tags(key, PoolTag, pool));
        }
    }

    private static KeyValuePair<string, object?>[] Tags(string key, string subject, string value) =>
        [new(NameTag, SeedSettings.NameOf(key)), new(KeyTag, key), new(subject, value)];

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
