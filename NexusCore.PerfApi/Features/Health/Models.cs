namespace NexusCore.PerfApi.Features.Health;

public enum HealthStatus
{
    Healthy,
    Degraded,
    Unhealthy,
}

/// <summary>
/// All that anonymous callers learn: the status word (and the HTTP status, 503 when unhealthy). Why, and every
/// figure, is on <c>/health/details</c> for readers.
/// </summary>
public sealed record Response(HealthStatus Status);

/// <summary>One dependency's reachability: a round trip's latency, or the error that stopped it.</summary>
public sealed record DependencyHealth(HealthStatus Status, double? LatencyMs, string? Error);
