using FastEndpoints;
using FluentValidation;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Analysis.Indexes;

namespace NexusCore.PerfApi.Features.Indexes.List;

/// <param name="Refresh"><c>true</c> runs a new analysis, at most once per <c>IndexAdvisor:MinRefreshInterval</c>; otherwise the latest one is reused.</param>
/// <param name="UnusedWindowSeconds">An index without scans for this long is advised for retirement: 1 to <c>IndexAdvisor:UnusedWindow</c> seconds, which it is when left out.</param>
public sealed record Request(
    [property: QueryParam] bool Refresh = false,
    [property: QueryParam] int? UnusedWindowSeconds = null)
{
    /// <summary>The longest window (and the default): the usage history the advisor keeps.</summary>
    public static int MaxUnusedWindowSeconds(IndexAdvisorOptions options) => (int)Math.Min(int.MaxValue, options.UnusedWindow.TotalSeconds);
}

public sealed class Validator : Validator<Request>
{
    public Validator(IOptions<IndexAdvisorOptions> options)
    {
        var max = Request.MaxUnusedWindowSeconds(options.Value);
        RuleFor(r => r.UnusedWindowSeconds).InclusiveBetween(1, max)
            .WithMessage($"unusedWindowSeconds must be a whole number from 1 to {max}.").WithErrorCode("unusedWindowSeconds_out_of_range");
    }
}

/// <param name="Hypopg"><c>available</c>: recommendations are proven with hypothetical indexes; <c>unavailable</c>: they are heuristic (see <see cref="HypopgDetail"/>).</param>
/// <param name="AnalyzedAt">When the analysis behind <see cref="Recommendations"/> started (it is reused for a while; <c>refresh=true</c> runs a new one).</param>
/// <param name="Refreshed">Whether that analysis started after this request: false for a reused one, and for <c>refresh=true</c> within <c>IndexAdvisor:MinRefreshInterval</c>.</param>
/// <param name="NextRefreshAt">The earliest time <c>refresh=true</c> runs a new analysis (the last one's end plus <c>IndexAdvisor:MinRefreshInterval</c>).</param>
/// <param name="Planning">How the statements were planned.</param>
/// <param name="TelemetryUnmatched">Statements PerfApi's telemetry saw (within <c>IndexAdvisor:TelemetryWindow</c>) that match no analysed statement: counted, never planned nor listed.</param>
/// <param name="Statements">Every statement the analysis looked at and what became of it.</param>
/// <param name="Regressions">Statements slower over <c>IndexAdvisor:RegressionWindow</c> than over the baseline before it, with likely causes.</param>
/// <param name="Applying">The application building now, if any.</param>
public sealed record Response(
    DateTimeOffset GeneratedAt,
    DateTimeOffset AnalyzedAt,
    bool Refreshed,
    DateTimeOffset NextRefreshAt,
    double AnalysisMs,
    string Hypopg,
    string? HypopgDetail,
    string Planning,
    string? PgStatStatementsUnavailable,
    int TelemetryUnmatched,
    Thresholds Thresholds,
    IReadOnlyList<IndexRecommendation> Recommendations,
    IReadOnlyList<RetireAdvice> Retire,
    IReadOnlyList<StatementRegression> Regressions,
    IReadOnlyList<AnalyzedStatement> Statements,
    string? Applying);

/// <summary>The thresholds in force (section <c>IndexAdvisor</c>, and SLOW_QUERY_THRESHOLD).</summary>
public sealed record Thresholds(
    double MinCostSavingPercent,
    long MinTableRows,
    double MinTableSizeMb,
    long MinCalls,
    double MinMeanMs,
    double SlowQueryThresholdSeconds,
    double UnusedWindowSeconds);
