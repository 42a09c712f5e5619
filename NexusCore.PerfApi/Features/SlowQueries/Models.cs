namespace NexusCore.PerfApi.Features.SlowQueries;

/// <param name="ThresholdSeconds">SLOW_QUERY_THRESHOLD, or the <c>threshold</c> of this call.</param>
/// <param name="PgStatStatementsUnavailable">Why no pg_stat_statements row could be joined; null when they were read.</param>
public sealed record Response(
    double ThresholdSeconds,
    string Window,
    DateTimeOffset GeneratedAt,
    string? PgStatStatementsUnavailable,
    IReadOnlyList<SlowQuery> Queries);

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
