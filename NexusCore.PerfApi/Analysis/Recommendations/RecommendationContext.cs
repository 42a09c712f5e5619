
using NexusCore.PerfApi.Analysis.Alerts;
using NexusCore.PerfApi.Analysis.Performance;
namespace NexusCore.PerfApi.Analysis.Recommendations;

/// <summary>What every rule evaluates against: the telemetry, the window asked for, and the thresholds in force.</summary>
/// <param name="SlowQueryThreshold">SLOW_QUERY_THRESHOLD.</param>
/// <param name="Alerts">The alert thresholds: crossing them makes a recommendation high priority.</param>
public sealed record RecommendationContext(
    PerformanceReader Reader,
    TimeSpan Window,
    TimeSpan SlowQueryThreshold,
    RecommendationOptions Options,
    AlertOptions Alerts,
    IReadOnlyList<ActiveAlert> ActiveAlerts)
{
    /// <summary>The window as people say it: "15 min", "1 h".</summary>
    public string WindowText => Window.TotalMinutes >= 60 && Window.TotalMinutes % 60 == 0 ? $"{Window.TotalHours:0} h" : $"{Window.TotalMinutes:0.#} min";
}
