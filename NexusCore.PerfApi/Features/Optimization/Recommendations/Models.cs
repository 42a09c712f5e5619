
using NexusCore.PerfApi.Analysis.Alerts;
using NexusCore.PerfApi.Analysis.Recommendations;
namespace NexusCore.PerfApi.Features.Optimization.Recommendations;

/// <param name="Recommendations">High priority first, then in rule order.</param>
/// <param name="ActiveAlerts">The alerts active now (see <c>GET /api/v1/performance/alerts</c>).</param>
/// <param name="FailedRules">Rules that could not be evaluated this time (their advice is missing, the rest is whole).</param>
public sealed record Response(
    string Window,
    DateTimeOffset GeneratedAt,
    double SlowQueryThresholdSeconds,
    IReadOnlyList<Recommendation> Recommendations,
    IReadOnlyList<ActiveAlert> ActiveAlerts,
    IReadOnlyList<string> FailedRules);
