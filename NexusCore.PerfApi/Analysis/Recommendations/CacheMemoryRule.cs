namespace NexusCore.PerfApi.Analysis.Recommendations;

/// <summary>
/// A service instance whose in-process cache holds more than <see cref="RecommendationOptions.CacheSizeMb"/>:
/// shorten the TTLs of the biggest entries or lower the cache's memory limit. High priority above the alert threshold.
/// </summary>
public sealed class CacheMemoryRule : IRecommendationRule
{
    public string Name => "cache_memory";

    public ValueTask<IReadOnlyList<Recommendation>> EvaluateAsync(RecommendationContext context, CancellationToken ct)
    {
        var advice = new List<Recommendation>();
        foreach (var cache in context.Reader.CacheMemory())
        {
            if (cache.SizeMb <= context.Options.CacheSizeMb)
            {
                continue;
            }

            var subject = cache.Instance.Length == 0 ? cache.Service : $"{cache.Service} ({cache.Instance})";
            var averageKb = cache.Entries == 0 ? 0 : cache.SizeBytes / cache.Entries / 1024;
            advice.Add(new Recommendation(
                Name,
                RecommendationCategory.Memory,
                RecommendationRules.PriorityFor(cache.SizeMb > context.Alerts.CacheSizeMb),
                $"In-process cache of {subject} holds {SlowQueryRule.Format(cache.SizeMb)} MB",
                $"{cache.Entries} entries of {SlowQueryRule.Format(averageKb)} KB on average, above {SlowQueryRule.Format(context.Options.CacheSizeMb)} MB. " +
                "Shorten the TTL of the query types with the biggest responses (CACHE_TTL_SEARCH, CACHE_TTL_ANALYTICS), " +
                "or lower the cache's memory limit (ClientsApi's Cache:MaxMemoryMb) so that it evicts sooner.",
                "Memory the cache holds is taken from the process; past its limit the cache evicts and the hit rate falls.",
                null,
                new Dictionary<string, double>
                {
                    ["sizeMb"] = Math.Round(cache.SizeMb, 3),
                    ["entries"] = cache.Entries,
                    ["averageEntryKb"] = Math.Round(averageKb, 3),
                    ["thresholdMb"] = context.Options.CacheSizeMb,
                }));
        }

        return ValueTask.FromResult<IReadOnlyList<Recommendation>>(advice);
    }
}
