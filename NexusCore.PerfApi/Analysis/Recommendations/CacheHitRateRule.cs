using NexusCore.PerfApi.Analysis.Performance;
namespace NexusCore.PerfApi.Analysis.Recommendations;

/// <summary>
/// A query type whose cache hit rate over the window is below <see cref="RecommendationOptions.CacheHitRatePercent"/>
/// (with at least <see cref="RecommendationOptions.MinCacheLookups"/> lookups): try twice its TTL, naming the
/// setting (<c>CACHE_TTL_&lt;TYPE&gt;</c>). High priority when the rate is also below the alert threshold.
/// </summary>
public sealed class CacheHitRateRule(CacheTtls ttls) : IRecommendationRule
{
    public string Name => "cache_hit_rate";

    public ValueTask<IReadOnlyList<Recommendation>> EvaluateAsync(RecommendationContext context, CancellationToken ct)
    {
        var advice = new List<Recommendation>();
        foreach (var lookups in context.Reader.CacheLookups(context.Window))
        {
            if (lookups.Lookups < context.Options.MinCacheLookups || lookups.HitRatePercent is not { } rate || rate >= context.Options.CacheHitRatePercent)
            {
                continue;
            }

            var (key, current) = ttls.For(lookups.QueryType);
            var suggested = Math.Min(CacheTtls.MaxSeconds, current * 2);
            var missesPerMinute = lookups.Misses / Math.Max(1.0 / 60, context.Reader.RateSeconds(context.Window) / 60);
            advice.Add(new Recommendation(
                Name,
                RecommendationCategory.Cache,
                RecommendationRules.PriorityFor(rate < context.Alerts.CacheHitRatePercent),
                $"Cache hit rate of {lookups.QueryType} reads is {SlowQueryRule.Format(rate)} %",
                $"{lookups.Hits} hits and {lookups.Misses} misses in the last {context.WindowText}, below the {SlowQueryRule.Format(context.Options.CacheHitRatePercent)} % target. " +
                $"Try {key}={suggested} (now {current} s): entries that live twice as long are found again more often. " +
                "If the misses follow writes (every write invalidates the lists and counts it affects), a longer TTL will not help.",
                $"Every miss runs its query on Postgres: about {SlowQueryRule.Format(missesPerMinute)} a minute at this rate.",
                $"{key}={suggested}",
                new Dictionary<string, double>
                {
                    ["hitRatePercent"] = Math.Round(rate, 2),
                    ["hits"] = lookups.Hits,
                    ["misses"] = lookups.Misses,
                    ["targetPercent"] = context.Options.CacheHitRatePercent,
                    ["currentTtlSeconds"] = current,
                    ["suggestedTtlSeconds"] = suggested,
                }));
        }

        return ValueTask.FromResult<IReadOnlyList<Recommendation>>(advice);
    }
}
