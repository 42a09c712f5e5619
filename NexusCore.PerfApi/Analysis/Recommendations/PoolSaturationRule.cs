
using NexusCore.PerfApi.Analysis.Performance;
namespace NexusCore.PerfApi.Analysis.Recommendations;

/// <summary>
/// A connection pool whose peak use in the window went above <see cref="RecommendationOptions.PoolUtilizationPercent"/>
/// of its maximum: raise <c>DB_POOL_SIZE</c> by half (<c>DB_WRITE_POOL_SIZE</c> for ClientsApi's write pool,
/// named <c>clientsdb-writes</c>, <c>DB_LOOKUP_POOL_SIZE</c> for its by-id pool, <c>clientsdb-lookups</c>), or hold connections for less time. High priority above the alert threshold.
/// </summary>
public sealed class PoolSaturationRule : IRecommendationRule
{
    public string Name => "pool_saturation";

    public ValueTask<IReadOnlyList<Recommendation>> EvaluateAsync(RecommendationContext context, CancellationToken ct)
    {
        var advice = new List<Recommendation>();
        foreach (var pool in context.Reader.Pools(context.Window))
        {
            if (pool.PeakUtilizationPercent is not { } peak || peak <= context.Options.PoolUtilizationPercent)
            {
                continue;
            }

            var max = pool.Max!.Value;
            var suggested = Saturating.Count(Math.Ceiling(max * 1.5));
            var setting = DatabaseOptions.PoolSizeSettingOf(pool.Pool);
            advice.Add(new Recommendation(
                Name,
                RecommendationCategory.ConnectionPool,
                RecommendationRules.PriorityFor(peak > context.Alerts.PoolUtilizationPercent),
                $"Connection pool {pool.Pool} of {pool.Service} peaked at {SlowQueryRule.Format(peak)} % of its {max} connections",
                $"Up to {pool.PeakUsed} of {max} connections were in use at once in the last {context.WindowText} ({pool.Used} now), " +
                $"above {SlowQueryRule.Format(context.Options.PoolUtilizationPercent)} %. Try {setting}={suggested} if Postgres has room " +
                "(its max_connections across every instance), and shorten what holds connections: slow queries, long transactions.",
                "When the pool is exhausted, requests wait for a connection and fail once the connection timeout passes.",
                $"{setting}={suggested}",
                new Dictionary<string, double>
                {
                    ["peakUtilizationPercent"] = Math.Round(peak, 2),
                    ["peakActive"] = pool.PeakUsed,
                    ["active"] = pool.Used,
                    ["idle"] = pool.Idle,
                    ["max"] = max,
                    ["thresholdPercent"] = context.Options.PoolUtilizationPercent,
                }));
        }

        return ValueTask.FromResult<IReadOnlyList<Recommendation>>(advice);
    }
}
