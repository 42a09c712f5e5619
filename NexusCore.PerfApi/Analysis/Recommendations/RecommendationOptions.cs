using Microsoft.Extensions.Options;

namespace NexusCore.PerfApi.Analysis.Recommendations;

/// <summary>
/// Section <c>Recommendations</c>: when the rules give advice. They are stricter than the alerts (section
/// <c>Alerts</c>), so advice comes before an alert; a recommendation whose figure also crosses the alert
/// threshold is high priority, otherwise medium. Slow queries use SLOW_QUERY_THRESHOLD.
/// </summary>
public sealed class RecommendationOptions
{
    public const string Section = "Recommendations";

    /// <summary>A query type whose hit rate over the window is below this gets a TTL recommendation (the seed's target was 75 %).</summary>
    public double CacheHitRatePercent { get; set; } = 75;

    /// <summary>Fewer lookups than this in the window say nothing about a hit rate.</summary>
    public int MinCacheLookups { get; set; } = 20;

    /// <summary>A pool whose peak use in the window is above this share of its maximum gets a pool-size recommendation.</summary>
    public double PoolUtilizationPercent { get; set; } = 75;

    /// <summary>A service instance whose in-process cache holds more than this many MB (2^20 bytes) gets a memory recommendation.</summary>
    public double CacheSizeMb { get; set; } = 80;
}

internal sealed class RecommendationOptionsValidator : IValidateOptions<RecommendationOptions>
{
    public ValidateOptionsResult Validate(string? name, RecommendationOptions options)
    {
        var failures = new List<string>();
        if (!(options.CacheHitRatePercent is >= 0 and <= 100))
        {
            failures.Add("Recommendations:CacheHitRatePercent must be from 0 to 100.");
        }

        if (options.MinCacheLookups < 1)
        {
            failures.Add("Recommendations:MinCacheLookups must be at least 1.");
        }

        if (!(options.PoolUtilizationPercent is > 0 and <= 100))
        {
            failures.Add("Recommendations:PoolUtilizationPercent must be greater than 0 and at most 100.");
        }

        if (!(options.CacheSizeMb is > 0 and <= 1_048_576))
        {
            failures.Add("Recommendations:CacheSizeMb must be greater than 0 and at most 1048576.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
