using System.Globalization;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Analysis.Performance;

namespace NexusCore.PerfApi.Analysis.Alerts;

/// <summary>
/// Which alert conditions hold now, read from the telemetry: a query series whose slowest run in the window
/// (the <c>nexuscore.query.duration</c> histogram's max) reached <see cref="AlertOptions.SlowQuerySeconds"/>; a query type whose cache hit rate over the window is
/// below <see cref="AlertOptions.CacheHitRatePercent"/> (with at least <see cref="AlertOptions.MinCacheLookups"/>
/// lookups); a pool above <see cref="AlertOptions.PoolUtilizationPercent"/>; a cache instance above
/// <see cref="AlertOptions.CacheSizeMb"/>.
/// </summary>
public sealed class AlertEvaluator(PerformanceReader reader, IOptionsMonitor<AlertOptions> options)
{
    public IReadOnlyList<AlertCondition> Evaluate()
    {
        var settings = options.CurrentValue;
        var conditions = new List<AlertCondition>();

        var slowMs = settings.SlowQuerySeconds * 1000;
        foreach (var series in reader.QuerySeries(settings.Window))
        {
            if (series.Stats.MaxMs >= slowMs)
            {
                var key = series.Key;
                var subject = $"{key.Service} {key.QueryType} {key.Table} {key.Operation}";
                var seconds = series.Stats.MaxMs / 1000;
                conditions.Add(new AlertCondition(
                    AlertKind.SlowQuery, subject, seconds, settings.SlowQuerySeconds, "s",
                    $"A {key.QueryType} query on {key.Table} ({key.Operation}) from {key.Service} took {Format(seconds)} s, at least {Format(settings.SlowQuerySeconds)} s."));
            }
        }

        foreach (var lookups in reader.CacheLookups(settings.Window))
        {
            if (lookups.Lookups >= settings.MinCacheLookups && lookups.HitRatePercent < settings.CacheHitRatePercent)
            {
                conditions.Add(new AlertCondition(
                    AlertKind.CacheHitRate, lookups.QueryType, lookups.HitRatePercent!.Value, settings.CacheHitRatePercent, "%",
                    $"The cache hit rate of {lookups.QueryType} reads is {Format(lookups.HitRatePercent.Value)} % ({lookups.Hits} hits, {lookups.Misses} misses), below {Format(settings.CacheHitRatePercent)} %."));
            }
        }

        foreach (var pool in reader.Pools(settings.Window))
        {
            if (pool.UtilizationPercent is { } utilization && utilization > settings.PoolUtilizationPercent)
            {
                conditions.Add(new AlertCondition(
                    AlertKind.PoolUtilization, PoolSubject(pool), utilization, settings.PoolUtilizationPercent, "%",
                    $"The connection pool of {pool.Service} uses {pool.Used} of {pool.Max} connections ({Format(utilization)} %), above {Format(settings.PoolUtilizationPercent)} %."));
            }
        }

        foreach (var cache in reader.CacheMemory())
        {
            if (cache.SizeMb > settings.CacheSizeMb)
            {
                var subject = cache.Instance.Length == 0 ? cache.Service : $"{cache.Service} {cache.Instance}";
                conditions.Add(new AlertCondition(
                    AlertKind.CacheSize, subject, cache.SizeMb, settings.CacheSizeMb, "MB",
                    $"The in-process cache of {subject} holds {Format(cache.SizeMb)} MB in {cache.Entries} entries, above {Format(settings.CacheSizeMb)} MB."));
            }
        }

        return conditions;
    }

    public static string PoolSubject(PoolReading pool) =>
        string.Join(' ', new[] { pool.Service, pool.Instance, pool.Pool }.Where(part => part.Length > 0));

    private static string Format(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
