using NexusCore.PerfApi.Analysis.Performance;
namespace NexusCore.PerfApi.Analysis.Recommendations;

/// <summary>
/// A query type whose cache hit rate over the window is below <see cref="RecommendationOptions.CacheHitRatePercent"/>
/// (with at least <see cref="RecommendationOptions.MinCacheLookups"/> lookups): try twice its TTL, naming the
/// setting that governs it. Both the TTL in force and the setting's name are the ones the caching service reports
/// (gauge <c>nexuscore.setting</c>, e.g. <c>CACHE_TTL_FIND</c>); a type it reports no TTL for gets no advice.
/// High priority when the rate is also below the alert threshold.
/// </summary>
public sealed class CacheHitRateRule : IRecommendationRule
{
    /// <summary>The longest TTL suggested: a day.</summary>
    public const int MaxSuggestedSeconds = 86_400;

    public string Name => "cache_hit_rate";

    public ValueTask<IReadOnlyList<Recommendation>> EvaluateAsync(RecommendationContext context, CancellationToken ct)
    {
        var advice = new List<Recommendation>();
        var ttls = context.Reader.Settings().Where(s => s.QueryType is not null).ToList();
        foreach (var lookups in context.Reader.CacheLookups(context.Window))
        {
            if (lookups.Lookups < context.Options.MinCacheLookups || lookups.HitRatePercent is not { } rate || rate >= context.Options.CacheHitRatePercent)
            {
                continue;
            }

            if (ttls.FirstOrDefault(t => string.Equals(t.QueryType, lookups.QueryType, StringComparison.Ordinal)) is not { } ttl)
            {
                continue;
            }

            var (key, current) = (ttl.Name, ttl.Value);
            var suggested = Math.Min(MaxSuggestedSeconds, current * 2);
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
