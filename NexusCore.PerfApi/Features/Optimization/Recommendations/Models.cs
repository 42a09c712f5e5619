using FastEndpoints;
using FluentValidation;
using NexusCore.PerfApi.Analysis.Alerts;
using NexusCore.PerfApi.Analysis.Recommendations;
using NexusCore.PerfApi.Contract;

namespace NexusCore.PerfApi.Features.Optimization.Recommendations;

/// <param name="Window">The figures the rules look at: <c>5m</c>, <c>15m</c> or <c>1h</c>.</param>
public sealed record Request([property: QueryParam] string Window = "15m");

public sealed class Validator : Validator<Request>
{
    public Validator() =>
        RuleFor(r => r.Window).OneOf(TimeWindow.Names)
            .WithMessage($"window must be one of: {string.Join(", ", TimeWindow.Names)}.").WithErrorCode("window_unknown");
}

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
