
using NexusCore.PerfApi.Analysis.Alerts;
namespace NexusCore.PerfApi.Features.Alerts;

/// <param name="EvaluatedAt">When the conditions were last evaluated; null before the first evaluation.</param>
/// <param name="Active">Alerts active now, the longest-running first.</param>
/// <param name="Recent">The most recent starts and stops, newest first (at most <c>Alerts:MaxTransitions</c>).</param>
public sealed record Response(DateTimeOffset? EvaluatedAt, Thresholds Thresholds, IReadOnlyList<ActiveAlert> Active, IReadOnlyList<AlertTransition> Recent);

/// <summary>The thresholds in force (section <c>Alerts</c>).</summary>
public sealed record Thresholds(
    double SlowQuerySeconds,
    double CacheHitRatePercent,
    int MinCacheLookups,
    double PoolUtilizationPercent,
    double CacheSizeMb,
    double WindowSeconds,
    double EvaluationIntervalSeconds);
