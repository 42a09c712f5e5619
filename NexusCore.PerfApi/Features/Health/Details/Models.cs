
using NexusCore.PerfApi.Analysis.Alerts;
namespace NexusCore.PerfApi.Features.Health.Details;

/// <param name="ResponseTimeMs">How long this health check itself took.</param>
/// <param name="Reasons">Why the status is not healthy: unreachable dependencies, active alerts.</param>
/// <param name="Summary">Logical queries and cache lookups over the last five minutes.</param>
/// <param name="ConnectionPool">Every connection pool reported in the last minute, added up; null when none has reported.</param>
public sealed record Response(
    HealthStatus Status,
    double ResponseTimeMs,
    DateTime Timestamp,
    IReadOnlyList<string> Reasons,
    IReadOnlyDictionary<string, DependencyHealth> Dependencies,
    QuerySummary Summary,
    ConnectionPool? ConnectionPool,
    IReadOnlyList<ActiveAlert> ActiveAlerts);

/// <param name="RecentQueries">Logical queries (query spans with a query type) that ended in the window.</param>
/// <param name="AverageResponseTimeMs">Their mean duration; null when there were none.</param>
/// <param name="CacheHitRatePercent">Cache hits per lookup over the window; null when nothing was looked up.</param>
public sealed record QuerySummary(
    double WindowSeconds,
    long RecentQueries,
    double? AverageResponseTimeMs,
    double? CacheHitRatePercent,
    long CacheHits,
    long CacheMisses);

/// <param name="UtilizationPercent">Active connections as a share of the pools' maximum sizes.</param>
/// <param name="Active">Connections in use by commands.</param>
/// <param name="Idle">Open connections waiting in the pools.</param>
/// <param name="Available">Connections that could still be handed out: maximum minus active.</param>
/// <param name="Max">The pools' maximum sizes added up.</param>
/// <param name="Pools">How many pools (service instance and connection string) were added up.</param>
public sealed record ConnectionPool(double? UtilizationPercent, long Active, long Idle, long Available, long Max, int Pools);
