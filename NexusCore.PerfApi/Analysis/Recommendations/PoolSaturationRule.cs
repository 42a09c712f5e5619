
using NexusCore.PerfApi.Analysis.Performance;
using NexusCore.PerfApi.Extensions;
using NexusCore.ServiceDefaults;
namespace NexusCore.PerfApi.Analysis.Recommendations;

/// <summary>
/// A connection pool whose peak use in the window went above <see cref="RecommendationOptions.PoolUtilizationPercent"/>
/// of its maximum: raise its size by half, or hold connections for less time. The setting named is the one its
/// service reports for that pool (gauge <c>nexuscore.setting</c>: ClientsApi's <c>DB_WRITE_POOL_SIZE</c> for
/// <c>clientsdb-writes</c>, ...), else <c>DB_POOL_SIZE</c>, which sizes every service's own pool. High priority
/// above the alert threshold.
/// </summary>
public sealed class PoolSaturationRule : IRecommendationRule
{
    /// <summary>The setting that sizes a service's pool when the service names no other.</summary>
    public static readonly string DefaultSetting = SeedSettings.NameOf($"{DatabaseOptions.Section}:{nameof(DatabaseOptions.PoolSize)}");

    public string Name => "pool_saturation";

    public ValueTask<IReadOnlyList<Recommendation>> EvaluateAsync(RecommendationContext context, CancellationToken ct)
    {
        var advice = new List<Recommendation>();
        var sizes = context.Reader.Settings().Where(s => s.Pool is not null).ToList();
        foreach (var pool in context.Reader.Pools(context.Window))
        {
            if (pool.PeakUtilizationPercent is not { } peak || peak <= context.Options.PoolUtilizationPercent)
            {
                continue;
            }

            var max = pool.Max!.Value;
            var suggested = Saturating.Count(Math.Ceiling(max * 1.5));
            var setting = sizes.FirstOrDefault(s => s.Service == pool.Service && s.Pool == pool.Pool)?.Name ?? DefaultSetting;
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
