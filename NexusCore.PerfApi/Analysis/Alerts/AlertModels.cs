namespace NexusCore.PerfApi.Analysis.Alerts;

public enum AlertKind
{
    SlowQuery,
    CacheHitRate,
    PoolUtilization,
    CacheSize,
}

public enum AlertState
{
    Started,
    Stopped,
}

/// <summary>A condition that holds now: what crossed which threshold, for what (<see cref="Subject"/>).</summary>
/// <param name="Subject">What the alert is about: a query series, a query type, a pool, a cache instance.</param>
/// <param name="Unit"><c>s</c>, <c>%</c> or <c>MB</c>, for <see cref="Value"/> and <see cref="Threshold"/>.</param>
public sealed record AlertCondition(AlertKind Kind, string Subject, double Value, double Threshold, string Unit, string Message);

/// <summary>An alert that is active: its condition as last evaluated and since when it holds.</summary>
public sealed record ActiveAlert(
    AlertKind Kind, string Subject, string Message, double Value, double Threshold, string Unit, DateTimeOffset Since, DateTimeOffset LastEvaluated);

/// <summary>An alert starting or stopping. A stop carries the last value seen while it was active.</summary>
public sealed record AlertTransition(
    AlertKind Kind, string Subject, AlertState State, DateTimeOffset At, double Value, double Threshold, string Unit, string Message);
