using FastEndpoints;
using FluentValidation;
using NexusCore.PerfApi.Contract;

namespace NexusCore.PerfApi.Features.SlowQueries;

/// <param name="Threshold">Seconds a run must take to count as slow, 0 to 86400 (e.g. 0.5); SLOW_QUERY_THRESHOLD when left out.</param>
/// <param name="Window">How far back: <c>5m</c>, <c>15m</c> or <c>1h</c>.</param>
/// <param name="Limit">At most this many statements, slowest mean first.</param>
public sealed record Request(
    [property: QueryParam] double? Threshold = null,
    [property: QueryParam] string Window = "1h",
    [property: QueryParam] int Limit = Request.DefaultLimit)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;
    public const double MaxThresholdSeconds = 86_400;
}

public sealed class Validator : Validator<Request>
{
    public Validator()
    {
        RuleFor(r => r.Threshold).InclusiveBetween(0.0, Request.MaxThresholdSeconds)
            .WithMessage($"threshold must be a number of seconds from 0 to {Request.MaxThresholdSeconds} (e.g. 0.5).").WithErrorCode("threshold_invalid");
        RuleFor(r => r.Window).OneOf(TimeWindow.Names)
            .WithMessage($"window must be one of: {string.Join(", ", TimeWindow.Names)}.").WithErrorCode("window_unknown");
        RuleFor(r => r.Limit).InclusiveBetween(1, Request.MaxLimit)
            .WithMessage($"limit must be a whole number from 1 to {Request.MaxLimit}.").WithErrorCode("limit_out_of_range");
    }
}

/// <param name="ThresholdSeconds">SLOW_QUERY_THRESHOLD, or the <c>threshold</c> of this call.</param>
/// <param name="PgStatStatementsUnavailable">Why no pg_stat_statements row could be joined; null when they were read.</param>
public sealed record Response(
    double ThresholdSeconds,
    string Window,
    DateTimeOffset GeneratedAt,
    string? PgStatStatementsUnavailable,
    IReadOnlyList<SlowQuery> Queries)
{
    /// <summary>What the OpenAPI document shows as a 200 answer.</summary>
    internal static readonly Response Example = new(1.0, "1h", new DateTimeOffset(2026, 12, 7, 12, 5, 0, TimeSpan.Zero), null,
    [
        new SlowQuery("clients-api", "SELECT id, name FROM clients WHERE name ILIKE $1 ORDER BY id LIMIT $2", "clients", "SELECT",
            3, 2, 850.2, 1301.7, new DateTimeOffset(2026, 12, 7, 12, 4, 31, TimeSpan.Zero), "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", 3, 850.2,
            [new PgStatStatement("SELECT id, name FROM clients WHERE name ILIKE $1 ORDER BY id LIMIT $2", 3, 2549.0, 849.7, 3, 12, 0)]),
    ]);
}

/// <summary>A normalized statement with at least one run over the threshold in the window.</summary>
/// <param name="Statement">Normalized SQL: literals as <c>?</c>, <c>$n</c> parameters kept.</param>
/// <param name="Count">Runs in the window.</param>
/// <param name="SlowCount">Runs over the threshold in the window, among the kept slow-span samples; null when the threshold is below <c>Telemetry:SpanSampleThreshold</c>.</param>
/// <param name="SampleTraceId">The trace of the slowest run in the window.</param>
/// <param name="PgStatStatements">The matching pg_stat_statements entries (one per statement; a batch may have several).</param>
public sealed record SlowQuery(
    string Service,
    string Statement,
    string? Table,
    string? Operation,
    long Count,
    long? SlowCount,
    double MeanMs,
    double MaxMs,
    DateTimeOffset LastSeen,
    string? SampleTraceId,
    string? SampleSpanId,
    long TotalCount,
    double TotalMeanMs,
    IReadOnlyList<PgStatStatement> PgStatStatements);

/// <summary>pg_stat_statements' figures for a statement (rows of several users or plans added up).</summary>
public sealed record PgStatStatement(
    string Query, long Calls, double TotalExecTimeMs, double MeanExecTimeMs, long Rows, long SharedBlksHit, long SharedBlksRead);
