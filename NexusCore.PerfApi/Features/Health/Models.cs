namespace NexusCore.PerfApi.Features.Health;

public enum HealthStatus
{
    Healthy,
    Degraded,
    Unhealthy,
}

public sealed record Response(
    HealthStatus Status,
    double ResponseTimeMs,
    DateTime Timestamp,
    IReadOnlyList<string> Reasons,
    IReadOnlyDictionary<string, DependencyHealth> Dependencies);

/// <summary>One dependency's reachability: a round trip's latency, or the error that stopped it.</summary>
public sealed record DependencyHealth(HealthStatus Status, double? LatencyMs, string? Error);
