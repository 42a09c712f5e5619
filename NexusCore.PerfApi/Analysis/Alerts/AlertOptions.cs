using Microsoft.Extensions.Options;

namespace NexusCore.PerfApi.Analysis.Alerts;

/// <summary>
/// Section <c>Alerts</c>: the seed's alert thresholds (slow query 2.0 s, cache hit rate below 50 %, pool
/// utilization above 90 %, cache above 100 MB) and how often and over what window they are evaluated.
/// </summary>
public sealed class AlertOptions
{
    public const string Section = "Alerts";

    /// <summary>A query that took at least this long within <see cref="Window"/> raises a slow-query alert.</summary>
    public double SlowQuerySeconds { get; set; } = 2.0;

    /// <summary>A query type whose cache hit rate over <see cref="Window"/> is below this raises an alert.</summary>
    public double CacheHitRatePercent { get; set; } = 50;

    /// <summary>Fewer lookups than this in the window say nothing about a hit rate (one miss is not 0 %).</summary>
    public int MinCacheLookups { get; set; } = 20;

    /// <summary>A connection pool using more than this share of its maximum raises an alert.</summary>
    public double PoolUtilizationPercent { get; set; } = 90;

    /// <summary>A service instance whose in-process cache holds more than this many MB (2^20 bytes) raises an alert.</summary>
    public double CacheSizeMb { get; set; } = 100;

    /// <summary>How far back slow queries and hit rates are looked at; pools and cache size are read as they are now.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the conditions are evaluated.</summary>
    public TimeSpan EvaluationInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How many start and stop transitions <c>GET /api/v1/performance/alerts</c> keeps.</summary>
    public int MaxTransitions { get; set; } = 100;
}

/// <summary>Rejects thresholds that could never fire or always fire, at start.</summary>
internal sealed class AlertOptionsValidator : IValidateOptions<AlertOptions>
{
    public ValidateOptionsResult Validate(string? name, AlertOptions options)
    {
        var failures = new List<string>();
        if (!(options.SlowQuerySeconds is > 0 and <= 86_400))
        {
            failures.Add("Alerts:SlowQuerySeconds must be greater than 0 and at most 86400.");
        }

        if (!(options.CacheHitRatePercent is >= 0 and <= 100))
        {
            failures.Add("Alerts:CacheHitRatePercent must be from 0 to 100.");
        }

        if (options.MinCacheLookups < 1)
        {
            failures.Add("Alerts:MinCacheLookups must be at least 1.");
        }

        if (!(options.PoolUtilizationPercent is > 0 and <= 100))
        {
            failures.Add("Alerts:PoolUtilizationPercent must be greater than 0 and at most 100.");
        }

        if (!(options.CacheSizeMb is > 0 and <= 1_048_576))
        {
            failures.Add("Alerts:CacheSizeMb must be greater than 0 and at most 1048576.");
        }

        if (options.Window < TimeSpan.FromSeconds(10) || options.Window > TimeSpan.FromHours(1))
        {
            failures.Add("Alerts:Window must be from 00:00:10 to 01:00:00.");
        }

        if (options.EvaluationInterval < TimeSpan.FromMilliseconds(100) || options.EvaluationInterval > TimeSpan.FromMinutes(10))
        {
            failures.Add("Alerts:EvaluationInterval must be from 00:00:00.1 to 00:10:00.");
        }

        if (options.MaxTransitions is < 1 or > 10_000)
        {
            failures.Add("Alerts:MaxTransitions must be from 1 to 10000.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
