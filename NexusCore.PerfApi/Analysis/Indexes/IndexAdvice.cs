namespace NexusCore.PerfApi.Analysis.Indexes;

/// <summary>How an index recommendation was reached.</summary>
public enum IndexProof
{
    /// <summary>The planner, given a hypothetical index (HypoPG), chose it and its cost fell by the threshold.</summary>
    Hypopg,

    /// <summary>HypoPG is unavailable: the plan scans the whole table filtering on the column. Not proven.</summary>
    Heuristic,
}

/// <summary>What became of a statement in an analysis.</summary>
public enum StatementOutcome
{
    /// <summary>An index is recommended for it.</summary>
    Recommended,

    /// <summary>Every column it filters, joins or sorts on already leads an index (or is a primary key).</summary>
    Covered,

    /// <summary>Its tables are below the size threshold (or are not plain tables).</summary>
    SmallTables,

    /// <summary>It compares no plain column with a value, a join key or a sort key an index could serve.</summary>
    NoCandidates,

    /// <summary>Candidates were planned, none cut the cost by the threshold.</summary>
    NoGain,

    /// <summary>It could not be planned (its tables are gone, a parameter's type cannot be inferred…).</summary>
    Unplannable,

    /// <summary>It is not one SELECT, UPDATE or DELETE, does not lex, or uses what the planning allowlist does not allow: never planned.</summary>
    Rejected,

    /// <summary>The analysis ran out of time before reaching it.</summary>
    NotReached,

    /// <summary>The index it would get was applied, did not pay and was rolled back: not proposed again until its quarantine ends.</summary>
    RolledBack,
}

/// <summary>One statement an index would serve, and what the planner says the index does for it.</summary>
/// <param name="Query">The statement as pg_stat_statements shows it.</param>
/// <param name="Source">Always <c>pg_stat_statements</c>: the only source of the statements analysed.</param>
/// <param name="Telemetry">What PerfApi's telemetry saw of it (services, runs, mean), when a span's statement matched it.</param>
/// <param name="Calls">Executions since pg_stat_statements was reset.</param>
/// <param name="CostBefore">The planner's total cost of its generic plan now.</param>
/// <param name="CostAfter">The same with the hypothetical index; null for heuristic advice.</param>
public sealed record IndexQueryEvidence(
    string Query,
    string Source,
    TelemetryEvidence? Telemetry,
    long Calls,
    double MeanMs,
    double TotalMs,
    double CostBefore,
    double? CostAfter,
    double? SavingPercent);

/// <summary>An index to create, the statement that creates it, and the evidence.</summary>
/// <param name="Id">Stable for the same table and columns: what <c>POST …/indexes/{id}/apply</c> takes.</param>
/// <param name="EstimatedSizeBytes">HypoPG's estimate of the index's size; null for heuristic advice.</param>
/// <param name="CostBefore">Of the busiest statement it serves (see <see cref="Queries"/> for each).</param>
public sealed record IndexRecommendation(
    string Id,
    IndexProof Proof,
    string Schema,
    string Table,
    IReadOnlyList<string> Columns,
    string IndexName,
    string Statement,
    double TableRows,
    long TableSizeBytes,
    long? EstimatedSizeBytes,
    double CostBefore,
    double? CostAfter,
    double? SavingPercent,
    IReadOnlyList<IndexQueryEvidence> Queries)
{
    /// <summary>
    /// Milliseconds of statement time it would save per hour of current traffic (executions per hour × mean × the
    /// planner's saving, summed over its statements); null for heuristic advice or before traffic was watched.
    /// </summary>
    public double? SavedMsPerHour { get; init; }

    /// <summary>Where to apply it (admin key).</summary>
    public string Apply => $"/{FastEndpointsDefaults.RoutePrefix}/performance/indexes/{Id}/apply";

    /// <summary>The table's oid and the quoted names the statement was built from (never from user input).</summary>
    internal IndexTarget Target { get; init; } = null!;
}

/// <summary>Catalog names, quoted by the server, that an index statement is built from.</summary>
internal sealed record IndexTarget(uint TableOid, string QuotedSchema, string QuotedTable, IReadOnlyList<string> QuotedColumns);

/// <summary>A statement the analysis looked at, and what became of it.</summary>
/// <param name="Detail">Why: our own words, a SQLSTATE with a fixed message of ours, never PostgreSQL's text.</param>
public sealed record AnalyzedStatement(string Query, string Source, TelemetryEvidence? Telemetry, long Calls, double MeanMs, StatementOutcome Outcome, string? Detail);

/// <summary>Why an index is proposed for retirement.</summary>
public enum RetireReason
{
    /// <summary>No scans over the window (and PerfApi watched it that long).</summary>
    Unused,

    /// <summary>Another index has the same definition.</summary>
    Duplicate,

    /// <summary>Its keys are the leading keys of another index of the same kind and predicate.</summary>
    Prefix,

    /// <summary>A failed <c>CREATE INDEX CONCURRENTLY</c> left it invalid: it is maintained on every write and never read.</summary>
    Invalid,
}

/// <summary>An index to drop, the statement that drops it, and what it costs today.</summary>
/// <param name="CoveredBy">For duplicates and prefixes, the index that serves the same lookups.</param>
/// <param name="ScansInWindow">idx_scan's increase over the window (from PerfApi's snapshots); null when not watched that long.</param>
/// <param name="ObservedSeconds">How long PerfApi has watched this index.</param>
/// <param name="IndexWritesPerHour">Entries written into the index (inserts and non-HOT updates of its table) per hour over the observed time: the write cost dropping it saves.</param>
public sealed record RetireAdvice(
    string Schema,
    string Table,
    string Index,
    IReadOnlyList<RetireReason> Reasons,
    string? CoveredBy,
    string Definition,
    string Statement,
    long SizeBytes,
    long IdxScanTotal,
    long? ScansInWindow,
    double ObservedSeconds,
    long TableInserts,
    long TableNonHotUpdates,
    long TableDeletes,
    double? IndexWritesPerHour)
{
    /// <summary>Whether the application's plans on the table were checked, and what they say (see <see cref="RetireProof"/>).</summary>
    public RetireProof Proof { get; init; } = RetireProof.NotChecked;

    /// <summary>The application's statements on the table whose generic plans were checked.</summary>
    public IReadOnlyList<string> StatementsChecked { get; init; } = [];

    /// <summary>Those of them whose plan reads this index (only for a duplicate or prefix: an unused index a plan reads is not proposed).</summary>
    public IReadOnlyList<string> UsedBy { get; init; } = [];

    /// <summary>The statement that undoes the drop.</summary>
    public string? Undo { get; init; }
}

/// <summary>One analysis of the statements the application's roles ran, with the telemetry that matched them.</summary>
/// <param name="HypoPgDetail">Why HypoPG is unavailable; null when it is available.</param>
/// <param name="TelemetryUnmatched">Statements the telemetry saw that match no analysed statement: counted, never planned.</param>
public sealed record IndexAnalysis(
    DateTimeOffset StartedAt,
    double ElapsedMs,
    bool HypoPgAvailable,
    string? HypoPgDetail,
    string? PgStatStatementsUnavailable,
    int TelemetryUnmatched,
    IReadOnlyList<IndexRecommendation> Recommendations,
    IReadOnlyList<AnalyzedStatement> Statements);
